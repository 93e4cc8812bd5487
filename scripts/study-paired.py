#!/usr/bin/env python3
"""Recompute an MCMI study's paired statistics from its cell files, independently of tf-kd's Java report.

Usage: scripts/study-paired.py STUDY_DIR

For every few-shot fraction and omitted class, and for the teachers, it pairs the cells by seed
(kd-mcmi - kd-mll, kd-mcmi - kd-mll-ft0; teacher mcmi - mll, mcmi - mll-ft0), computes mean, sample sd,
the 95% Student-t interval (the t quantile by numerical integration of the density, standard library only)
and the sign count, prints one line per figure, checks that the same text is in STUDY_DIR/results.md, and
prints the pooled sign counts over all fractions and seeds (which results.md does not carry). Exit 1 when a
figure differs from results.md.
"""
import functools
import glob
import json
import math
import os
import sys


@functools.lru_cache(maxsize=None)
def t_quantile(p, df):
    """The p-quantile of Student's t with df degrees of freedom (p > 0.5), by Simpson's rule and bisection."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def cdf(x):
        n = 20000
        h = x / n
        s = 0.0
        for i in range(n + 1):
            t = i * h
            f = math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))
            s += f * (1 if i in (0, n) else 4 if i % 2 else 2)
        return 0.5 + s * h / 3

    lo, hi = 0.0, 1000.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def paired(values, scale, digits):
    n = len(values)
    mean = sum(values) / n
    fmt = '%+.' + str(digits) + 'f'
    if n == 1:
        return (fmt % (mean * scale)) + ' (n = 1)'
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(0.975, n - 1) * sd / math.sqrt(n)
    above = sum(v > 0 for v in values)
    return '%s ± %s [%s, %s] %d/%d > 0' % (fmt % (mean * scale), ('%.' + str(digits) + 'f') % (sd * scale),
                                          fmt % ((mean - half) * scale), fmt % ((mean + half) * scale), above, n)


def main(study):
    cells = {}
    for f in glob.glob(os.path.join(study, 'cells', 'test', 'seed-*', '**', '*.json'), recursive=True):
        d = json.load(open(f))
        cells[d['cell']] = d
    seeds = sorted({d['seed'] for d in cells.values()})
    results = open(os.path.join(study, 'results.md'), encoding='utf-8').read()
    settings = sorted({c.split('/')[2] for c in cells if c.count('/') == 3})
    missing = 0
    pooled = {}

    def check(label, text):
        nonlocal missing
        ok = text in results
        missing += not ok
        print('%-44s %s%s' % (label, text, '' if ok else '   <-- not in results.md'))

    for setting in settings:
        for key, what in [('accuracy', 'accuracy on all classes'), ('omittedAccuracy', 'accuracy on the omitted class')]:
            if key == 'omittedAccuracy' and not setting.startswith('zero-shot'):
                continue
            for other in ['kd-mll', 'kd-mll-ft0']:
                diffs = []
                for s in seeds:
                    a = cells.get('test/seed-%d/%s/kd-mcmi' % (s, setting))
                    b = cells.get('test/seed-%d/%s/%s' % (s, setting, other))
                    if a and b:
                        diffs.append(a[key] - b[key])
                if diffs:
                    check('%s kd-mcmi - %s (%s)' % (setting, other, what), paired(diffs, 100, 2))
                    group = (setting.split('-')[0] + '-' + setting.split('-')[1], key, other)
                    pooled.setdefault(group, []).extend(diffs)
    for key, scale, digits in [('trainCmi', 1, 4), ('accuracy', 100, 2), ('nll', 1, 4), ('ece', 100, 2),
                               ('bcpdError', 1, 5), ('klToPosterior', 1, 4)]:
        for other in ['mll', 'mll-ft0']:
            diffs = []
            for s in seeds:
                a = cells.get('test/seed-%d/teacher-mcmi' % s)
                b = cells.get('test/seed-%d/teacher-%s' % (s, other))
                if a and b and a.get(key) is not None and b.get(key) is not None:
                    diffs.append(a[key] - b[key])
            if diffs:
                check('teacher mcmi - %s (%s)' % (other, key), paired(diffs, scale, digits))
    print()
    print('Pooled over settings and seeds (kd-mcmi minus the other student):')
    for (prefix, key, other), d in sorted(pooled.items()):
        print('  %-10s %-16s - %-10s %3d pairs: below %3d, above %3d, mean %+.2f points'
              % (prefix, key, other, len(d), sum(x < 0 for x in d), sum(x > 0 for x in d), 100 * sum(d) / len(d)))
    if missing:
        print('%d figure(s) differ from results.md' % missing)
        return 1
    print('every figure matches results.md')
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
