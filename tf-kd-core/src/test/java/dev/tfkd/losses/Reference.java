package dev.tfkd.losses;

/**
 * An independent float64 implementation of every divergence, in plain Java (no TensorFlow), written from the
 * formulas in the Javadoc rather than from the graph code: probabilities are formed directly where that is exact in
 * double precision, sums are loops. It reads only a divergence's parameters (record accessors), so a divergence
 * added to the registry without a case here fails the tests.
 */
final class Reference {
  private Reference() {}

  /** Per-example values for {@code s} (student) and {@code t} (teacher) logits, labels {@code y}, at {@code epoch}. */
  static double[] perExample(Divergence d, double[][] s, double[][] t, int[] y, double epoch) {
    int b = s.length;
    if (d instanceof Cswt c) {
      return tempered(c.inner(), s, t, y, epoch, cswtTemperatures(c, s, t));
    }
    if (d instanceof MseLogits) {
      double[] out = new double[b];
      for (int i = 0; i < b; i++) {
        double sum = 0;
        for (int k = 0; k < s[i].length; k++) {
          sum += (s[i][k] - t[i][k]) * (s[i][k] - t[i][k]);
        }
        out[i] = sum / s[i].length;
      }
      return out;
    }
    if (d instanceof Tempered td) {
      double[] temps = new double[b];
      java.util.Arrays.fill(temps, td.temperature());
      return tempered(td, s, t, y, epoch, temps);
    }
    throw new AssertionError("no float64 reference for " + d);
  }

  /** CSWT temperatures: ascending rank of the cosine similarity of the T = 1 distributions, ties within the tolerance. */
  static double[] cswtTemperatures(Cswt c, double[][] s, double[][] t) {
    int b = s.length;
    double[] cos = new double[b];
    for (int i = 0; i < b; i++) {
      double[] q = softmax(s[i], 1);
      double[] p = softmax(t[i], 1);
      double dot = 0, nq = 0, np = 0;
      for (int k = 0; k < q.length; k++) {
        dot += q[k] * p[k];
        nq += q[k] * q[k];
        np += p[k] * p[k];
      }
      cos[i] = dot / Math.sqrt(nq * np);
    }
    double[] temps = new double[b];
    for (int i = 0; i < b; i++) {
      double rank = 0;
      for (int j = 0; j < b; j++) {
        if (j != i && cos[j] < cos[i] - Cswt.TIE_TOLERANCE) {
          rank += 1;
        } else if (j != i && Math.abs(cos[j] - cos[i]) <= Cswt.TIE_TOLERANCE) {
          rank += 0.5;
        }
      }
      double frac = rank / Math.max(1, b - 1);
      temps[i] = c.maxTemperature() - (c.maxTemperature() - c.minTemperature()) * frac;
    }
    return temps;
  }

  private static double[] tempered(Tempered d, double[][] s, double[][] t, int[] y, double epoch, double[] temps) {
    int b = s.length;
    if (d instanceof Sinkhorn sk) {
      return sinkhorn(sk, s, t, temps);
    }
    double[] out = new double[b];
    for (int i = 0; i < b; i++) {
      double tt = temps[i];
      double[] lp = logSoftmax(t[i], tt);
      double[] lq = logSoftmax(s[i], tt);
      out[i] = row(d, lp, lq, s[i], t[i], y[i], epoch, tt);
    }
    return out;
  }

  private static double row(
      Tempered d, double[] lp, double[] lq, double[] zs, double[] zt, int y, double epoch, double tt) {
    int k = lp.length;
    if (d instanceof Kl) {
      return tt * tt * kl(lp, lq);
    }
    if (d instanceof ReverseKl) {
      return tt * tt * kl(lq, lp);
    }
    if (d instanceof JensenShannon js) {
      double beta = js.beta();
      double[] lm = new double[k];
      for (int c = 0; c < k; c++) {
        lm[c] = logAddExp(Math.log(beta) + lp[c], Math.log(1 - beta) + lq[c]);
      }
      return beta * kl(lp, lm) + (1 - beta) * kl(lq, lm);
    }
    if (d instanceof TotalVariation) {
      double sum = 0;
      for (int c = 0; c < k; c++) {
        sum += Math.abs(Math.exp(lp[c]) - Math.exp(lq[c]));
      }
      return 0.5 * sum;
    }
    if (d instanceof SymmetricKl sk) {
      return (1 - sk.lambda()) * kl(lp, lq) + sk.lambda() * kl(lq, lp);
    }
    if (d instanceof SkewKl sk) {
      double[] first = sk.reverse() ? lq : lp;
      double[] second = sk.reverse() ? lp : lq;
      double a = sk.skew();
      double[] mix = new double[k];
      for (int c = 0; c < k; c++) {
        mix[c] = a == 0 ? second[c] : logAddExp(Math.log(a) + first[c], Math.log(1 - a) + second[c]);
      }
      return kl(first, mix);
    }
    if (d instanceof AlphaBeta ab) {
      return alphaBeta(ab.alpha(), ab.beta(), lp, lq);
    }
    if (d instanceof Alpha al) {
      double a = al.alpha();
      if (a == 1) {
        return kl(lp, lq);
      }
      if (a == 0) {
        return kl(lq, lp);
      }
      double sum = 0;
      for (int c = 0; c < k; c++) {
        double p = Math.exp(lp[c]);
        double q = Math.exp(lq[c]);
        sum += a * p + (1 - a) * q - Math.pow(p, a) * Math.pow(q, 1 - a);
      }
      return sum / (a * (1 - a));
    }
    if (d instanceof CauchySchwarz) {
      double pq = 0, pp = 0, qq = 0;
      for (int c = 0; c < k; c++) {
        double p = Math.exp(lp[c]);
        double q = Math.exp(lq[c]);
        pq += p * q;
        pp += p * p;
        qq += q * q;
      }
      return -Math.log(pq) + 0.5 * Math.log(pp) + 0.5 * Math.log(qq);
    }
    if (d instanceof Dkd dkd) {
      double[] p = softmax(zt, tt);
      double[] q = softmax(zs, tt);
      double py = p[y], qy = q[y];
      // 1 - p_y as the sum of the other probabilities keeps double precision when p_y is close to 1.
      double pr = restSum(p, y);
      double qr = restSum(q, y);
      double tckd = py * Math.log(py / qy) + pr * Math.log(pr / qr);
      double nckd = kl(nonTargetLogs(zt, y, tt), nonTargetLogs(zs, y, tt));
      double w = dkd.warmupEpochs() == 0 ? 1 : Math.min(1, (epoch + 1) / dkd.warmupEpochs());
      return w * tt * tt * (dkd.alpha() * tckd + dkd.beta() * nckd);
    }
    if (d instanceof Nkd nkd) {
      double[] tp = softmax(zt, 1);
      double[] sp = softmax(zs, 1);
      double target = -tp[y] * Math.log(sp[y]);
      double non = kl(nonTargetLogs(zt, y, tt), nonTargetLogs(zs, y, tt));
      return target + nkd.gamma() * tt * tt * non;
    }
    if (d instanceof Bdkd bd) {
      double hp = 0, hq = 0;
      for (int c = 0; c < k; c++) {
        hp -= Math.exp(lp[c]) * lp[c];
        hq -= Math.exp(lq[c]) * lq[c];
      }
      double wf = hq > hp ? 1 : bd.weight();
      double wr = hq > hp ? bd.weight() : 1;
      return tt * tt * (wf * kl(lp, lq) + wr * kl(lq, lp));
    }
    throw new AssertionError("no float64 reference for " + d);
  }

  /** The alpha-beta divergence of two log-probability rows, with its limit forms. */
  static double alphaBeta(double a, double b, double[] lp, double[] lq) {
    double sum = 0;
    for (int c = 0; c < lp.length; c++) {
      double p = Math.exp(lp[c]);
      double q = Math.exp(lq[c]);
      if (a == 0 && b == 0) {
        sum += 0.5 * (lp[c] - lq[c]) * (lp[c] - lq[c]);
      } else if (b == 0) {
        double pa = Math.pow(p, a), qa = Math.pow(q, a);
        sum += (pa * Math.log(pa / qa) - pa + qa) / (a * a);
      } else if (a == 0) {
        double qb = Math.pow(q, b), pb = Math.pow(p, b);
        sum += (qb * Math.log(qb / pb) - qb + pb) / (b * b);
      } else if (a + b == 0) {
        double r = p / q;
        sum += (Math.pow(r, a) - a * Math.log(r) - 1) / (a * a);
      } else {
        double s = a + b;
        sum += -(Math.pow(p, a) * Math.pow(q, b) - a / s * Math.pow(p, s) - b / s * Math.pow(q, s)) / (a * b);
      }
    }
    return sum;
  }

  private static double[] sinkhorn(Sinkhorn sk, double[][] s, double[][] t, double[] temps) {
    int b = s.length;
    double[][] q = new double[b][];
    double[][] p = new double[b][];
    for (int i = 0; i < b; i++) {
      q[i] = softmax(s[i], temps[i]);
      p[i] = softmax(t[i], temps[i]);
    }
    double[][] w = new double[b][b];
    double[][] lk = new double[b][b];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < b; j++) {
        double c = 0;
        for (int k = 0; k < q[i].length; k++) {
          c += Math.abs(q[i][k] - p[j][k]);
        }
        w[i][j] = c;
        lk[i][j] = -c / sk.epsilon();
      }
    }
    double logMarginal = -Math.log(b);
    for (int it = 0; it < sk.iterations(); it++) {
      for (int i = 0; i < b; i++) {
        double lse = logSumExp(lk[i]);
        for (int j = 0; j < b; j++) {
          lk[i][j] += logMarginal - lse;
        }
      }
      for (int j = 0; j < b; j++) {
        double[] col = new double[b];
        for (int i = 0; i < b; i++) {
          col[i] = lk[i][j];
        }
        double lse = logSumExp(col);
        for (int i = 0; i < b; i++) {
          lk[i][j] += logMarginal - lse;
        }
      }
    }
    double[] out = new double[b];
    for (int i = 0; i < b; i++) {
      double sum = 0;
      for (int j = 0; j < b; j++) {
        sum += Math.exp(lk[i][j]) * w[i][j];
      }
      out[i] = b * sum;
    }
    return out;
  }

  private static double restSum(double[] p, int y) {
    double sum = 0;
    for (int c = 0; c < p.length; c++) {
      if (c != y) {
        sum += p[c];
      }
    }
    return sum;
  }

  /** Log of the softmax over the classes other than {@code y}, at temperature {@code tt}; entry y is -inf. */
  private static double[] nonTargetLogs(double[] z, int y, double tt) {
    double[] rest = new double[z.length - 1];
    for (int c = 0, r = 0; c < z.length; c++) {
      if (c != y) {
        rest[r++] = z[c];
      }
    }
    double[] l = logSoftmax(rest, tt);
    double[] out = new double[z.length];
    for (int c = 0, r = 0; c < z.length; c++) {
      out[c] = c == y ? Double.NEGATIVE_INFINITY : l[r++];
    }
    return out;
  }

  /** KL(p || q) from log-probabilities; classes with p = 0 contribute nothing. */
  static double kl(double[] lp, double[] lq) {
    double sum = 0;
    for (int c = 0; c < lp.length; c++) {
      if (lp[c] != Double.NEGATIVE_INFINITY) {
        sum += Math.exp(lp[c]) * (lp[c] - lq[c]);
      }
    }
    return sum;
  }

  static double[] logSoftmax(double[] z, double tt) {
    double[] x = new double[z.length];
    for (int c = 0; c < z.length; c++) {
      x[c] = z[c] / tt;
    }
    double lse = logSumExp(x);
    for (int c = 0; c < z.length; c++) {
      x[c] -= lse;
    }
    return x;
  }

  static double[] softmax(double[] z, double tt) {
    double[] l = logSoftmax(z, tt);
    for (int c = 0; c < l.length; c++) {
      l[c] = Math.exp(l[c]);
    }
    return l;
  }

  static double logSumExp(double[] x) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : x) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (double v : x) {
      sum += Math.exp(v - max);
    }
    return max + Math.log(sum);
  }

  private static double logAddExp(double a, double b) {
    double max = Math.max(a, b);
    return max + Math.log1p(Math.exp(-Math.abs(a - b)));
  }
}
