#!/usr/bin/env python3
"""Table of scripts/feature-comparison.sh's runs: test accuracy (10,000 images) per method and seed, mean and
standard deviation over seeds, the mean paired difference to the student alone (same seed) with how many seeds are
above it, and each run's wall time (training plus the final evaluation).

    python3 scripts/feature-comparison-table.py WORK_DIR
"""
import sys
import re, glob, statistics, os
work = sys.argv[1]
acc = {}
wall = {}
for f in glob.glob(os.path.join(work, 'logs', 'eval-s*-*.log')):
    m = re.match(r'.*/eval-s(\d)-(.+)\.log', f)
    seed, meth = int(m.group(1)), m.group(2)
    t = open(f).read()
    a = re.search(r'accuracy: ([0-9.]+)', t)
    if a:
        acc.setdefault(meth, {})[seed] = float(a.group(1))
for line in open(os.path.join(work, 'logs', 'summary.txt')):
    m = re.match(r'(\S+) seed (\d) rc (\d+) wall (\d+) s', line)
    if m and m.group(3) == '0':
        wall.setdefault(m.group(1), {})[int(m.group(2))] = int(m.group(4))
order = ['ce', 'kd', 'at', 'sp', 'pkt', 'rkd', 'dist', 'fitnet', 'vid', 'crd', 'ofd', 'reviewkd']
base = acc.get('ce', {})
print('| method | seed 1 | seed 2 | seed 3 | mean ± sd | minus alone, paired: mean [95% t-interval], seeds above | wall per run (s) |')
print('| :-- | --: | --: | --: | --: | :-- | --: |')
for meth in order:
    if meth not in acc: continue
    v = acc[meth]
    vals = [v.get(s) for s in (1, 2, 3)]
    got = [x for x in vals if x is not None]
    mean = statistics.mean(got)
    sd = statistics.stdev(got) if len(got) > 1 else float('nan')
    diffs = [v[s] - base[s] for s in v if s in base]
    d = statistics.mean(diffs) * 100 if diffs else float('nan')
    above = sum(1 for x in diffs if x > 0)
    w = wall.get(meth, {})
    # Student-t 0.975 quantiles for n - 1 = 1..4 degrees of freedom.
    t975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776}
    if meth != 'ce' and len(diffs) in t975:
        half = t975[len(diffs)] * statistics.stdev(diffs) * 100 / len(diffs) ** 0.5
        paired = '%+.2f [%+.2f, %+.2f], %d/%d' % (d, d - half, d + half, above, len(diffs))
    else:
        paired = '-'
    print('| %s | %s | %.2f ± %.2f | %s | %s |' % (
        meth, ' | '.join('%.2f' % (100 * x) if x is not None else '-' for x in vals), 100 * mean, 100 * sd, paired,
        ' / '.join(str(w[s]) for s in sorted(w))))
