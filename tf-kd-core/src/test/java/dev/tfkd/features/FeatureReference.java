package dev.tfkd.features;

/**
 * Feature losses in plain float64 Java, written from the papers' reference code (RepDistiller's {@code
 * distiller_zoo}, DIST's official loss), independently of the graph code: flat NHWC arrays, loops.
 */
final class FeatureReference {
  private FeatureReference() {}

  /** Attention map of one example: channel mean of squares over H*W positions, L2-normalised (norm floor 1e-12). */
  static double[] attention(double[] f, int b, int hw, int c) {
    double[] a = new double[hw];
    double sq = 0;
    for (int p = 0; p < hw; p++) {
      double m = 0;
      for (int k = 0; k < c; k++) {
        double v = f[(b * hw + p) * c + k];
        m += v * v;
      }
      a[p] = m / c;
      sq += a[p] * a[p];
    }
    double n = Math.max(Math.sqrt(sq), 1e-12);
    for (int p = 0; p < hw; p++) {
      a[p] /= n;
    }
    return a;
  }

  /** One stage of AT: mean over b and positions of the squared attention difference. */
  static double atStage(double[] s, int cs, double[] t, int ct, int batch, int hw) {
    double sum = 0;
    for (int b = 0; b < batch; b++) {
      double[] as = attention(s, b, hw, cs);
      double[] at = attention(t, b, hw, ct);
      for (int p = 0; p < hw; p++) {
        sum += (as[p] - at[p]) * (as[p] - at[p]);
      }
    }
    return sum / (batch * hw);
  }

  /** Row-normalised Gram matrix of {@code [B, D]} rows. */
  private static double[][] normalizedGram(double[] f, int batch, int d) {
    double[][] g = new double[batch][batch];
    for (int i = 0; i < batch; i++) {
      double sq = 0;
      for (int j = 0; j < batch; j++) {
        double dot = 0;
        for (int k = 0; k < d; k++) {
          dot += f[i * d + k] * f[j * d + k];
        }
        g[i][j] = dot;
        sq += dot * dot;
      }
      double n = Math.max(Math.sqrt(sq), 1e-12);
      for (int j = 0; j < batch; j++) {
        g[i][j] /= n;
      }
    }
    return g;
  }

  static double sp(double[] s, int ds, double[] t, int dt, int batch) {
    double[][] gs = normalizedGram(s, batch, ds);
    double[][] gt = normalizedGram(t, batch, dt);
    double sum = 0;
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        sum += (gt[i][j] - gs[i][j]) * (gt[i][j] - gs[i][j]);
      }
    }
    return sum / (batch * batch);
  }

  private static double[][] pktConditional(double[] x, int batch, int d) {
    double eps = 1e-7;
    double[][] u = new double[batch][d];
    for (int i = 0; i < batch; i++) {
      double sq = 0;
      for (int k = 0; k < d; k++) {
        sq += x[i * d + k] * x[i * d + k];
      }
      double n = Math.sqrt(sq);
      for (int k = 0; k < d; k++) {
        u[i][k] = x[i * d + k] / (n + eps);
      }
    }
    double[][] p = new double[batch][batch];
    for (int i = 0; i < batch; i++) {
      double row = 0;
      for (int j = 0; j < batch; j++) {
        double dot = 0;
        for (int k = 0; k < d; k++) {
          dot += u[i][k] * u[j][k];
        }
        p[i][j] = (dot + 1) / 2;
        row += p[i][j];
      }
      for (int j = 0; j < batch; j++) {
        p[i][j] /= row;
      }
    }
    return p;
  }

  static double pkt(double[] s, int ds, double[] t, int dt, int batch) {
    double[][] q = pktConditional(s, batch, ds);
    double[][] p = pktConditional(t, batch, dt);
    double sum = 0;
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        sum += p[i][j] * Math.log((p[i][j] + 1e-7) / (q[i][j] + 1e-7));
      }
    }
    return sum / (batch * batch);
  }

  private static double smoothL1(double a, double b) {
    double d = Math.abs(a - b);
    return d < 1 ? 0.5 * d * d : d - 0.5;
  }

  private static double[][] rkdDistances(double[] e, int batch, int d) {
    double[][] dist = new double[batch][batch];
    double sum = 0;
    int positive = 0;
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        if (i == j) {
          continue;
        }
        double sq = 0;
        for (int k = 0; k < d; k++) {
          double diff = e[i * d + k] - e[j * d + k];
          sq += diff * diff;
        }
        dist[i][j] = Math.sqrt(Math.max(sq, 1e-12));
        sum += dist[i][j];
        positive += dist[i][j] > 0 ? 1 : 0;
      }
    }
    double mean = sum / positive;
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        dist[i][j] /= mean;
      }
    }
    return dist;
  }

  private static double[][][] rkdAngles(double[] e, int batch, int d) {
    double[][][] unit = new double[batch][batch][d];
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        double sq = 0;
        for (int k = 0; k < d; k++) {
          unit[i][j][k] = e[j * d + k] - e[i * d + k];
          sq += unit[i][j][k] * unit[i][j][k];
        }
        double n = Math.max(Math.sqrt(sq), 1e-12);
        for (int k = 0; k < d; k++) {
          unit[i][j][k] /= n;
        }
      }
    }
    double[][][] a = new double[batch][batch][batch];
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        for (int l = 0; l < batch; l++) {
          double dot = 0;
          for (int k = 0; k < d; k++) {
            dot += unit[i][j][k] * unit[i][l][k];
          }
          a[i][j][l] = dot;
        }
      }
    }
    return a;
  }

  static double rkd(double[] s, int ds, double[] t, int dt, int batch, double wd, double wa) {
    double[][] sd = rkdDistances(s, batch, ds);
    double[][] td = rkdDistances(t, batch, dt);
    double dist = 0;
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        dist += smoothL1(sd[i][j], td[i][j]);
      }
    }
    double[][][] sa = rkdAngles(s, batch, ds);
    double[][][] ta = rkdAngles(t, batch, dt);
    double ang = 0;
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        for (int l = 0; l < batch; l++) {
          ang += smoothL1(sa[i][j][l], ta[i][j][l]);
        }
      }
    }
    return wd * dist / (batch * batch) + wa * ang / ((double) batch * batch * batch);
  }

  private static double[][] softmax(double[] z, int batch, int k, double temp) {
    double[][] y = new double[batch][k];
    for (int i = 0; i < batch; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < k; c++) {
        max = Math.max(max, z[i * k + c] / temp);
      }
      double sum = 0;
      for (int c = 0; c < k; c++) {
        y[i][c] = Math.exp(z[i * k + c] / temp - max);
        sum += y[i][c];
      }
      for (int c = 0; c < k; c++) {
        y[i][c] /= sum;
      }
    }
    return y;
  }

  private static double pearson(double[] a, double[] b) {
    int n = a.length;
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < n; i++) {
      ma += a[i] / n;
      mb += b[i] / n;
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < n; i++) {
      dot += (a[i] - ma) * (b[i] - mb);
      na += (a[i] - ma) * (a[i] - ma);
      nb += (b[i] - mb) * (b[i] - mb);
    }
    return dot / (Math.sqrt(na) * Math.sqrt(nb) + 1e-8);
  }

  static double dist(double[] zs, double[] zt, int batch, int k, double beta, double gamma, double temp) {
    double[][] ys = softmax(zs, batch, k, temp);
    double[][] yt = softmax(zt, batch, k, temp);
    double inter = 0;
    for (int i = 0; i < batch; i++) {
      inter += pearson(ys[i], yt[i]) / batch;
    }
    double intra = 0;
    for (int c = 0; c < k; c++) {
      double[] a = new double[batch];
      double[] b = new double[batch];
      for (int i = 0; i < batch; i++) {
        a[i] = ys[i][c];
        b[i] = yt[i][c];
      }
      intra += pearson(a, b) / k;
    }
    return temp * temp * (beta * (1 - inter) + gamma * (1 - intra));
  }

  /**
   * FitNet with RepDistiller's ConvReg for equal sizes: 3x3 convolution (padding 1, bias), batch normalisation with
   * the batch's biased variance (epsilon 1e-5), ReLU, then the mean squared error to the teacher.
   */
  static double fitnet(
      double[] s, int batch, int h, int w, int cin, double[] t, int cout,
      double[] kernel, double[] bias, double[] gamma, double[] beta) {
    double[] y = new double[batch * h * w * cout];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < w; j++) {
          for (int o = 0; o < cout; o++) {
            double acc = bias[o];
            for (int di = 0; di < 3; di++) {
              for (int dj = 0; dj < 3; dj++) {
                int ii = i + di - 1;
                int jj = j + dj - 1;
                if (ii < 0 || jj < 0 || ii >= h || jj >= w) {
                  continue;
                }
                for (int c = 0; c < cin; c++) {
                  acc += s[((b * h + ii) * w + jj) * cin + c] * kernel[((di * 3 + dj) * cin + c) * cout + o];
                }
              }
            }
            y[((b * h + i) * w + j) * cout + o] = acc;
          }
        }
      }
    }
    int n = batch * h * w;
    double loss = 0;
    for (int o = 0; o < cout; o++) {
      double mean = 0;
      for (int p = 0; p < n; p++) {
        mean += y[p * cout + o] / n;
      }
      double var = 0;
      for (int p = 0; p < n; p++) {
        var += (y[p * cout + o] - mean) * (y[p * cout + o] - mean) / n;
      }
      for (int p = 0; p < n; p++) {
        double r = Math.max(0, (y[p * cout + o] - mean) / Math.sqrt(var + 1e-5) * gamma[o] + beta[o]);
        loss += (r - t[p * cout + o]) * (r - t[p * cout + o]);
      }
    }
    return loss / (n * cout);
  }

  /**
   * OFD's margin {@code E[x | x < 0]} for {@code x ~ N(beta, gamma^2)}, by Simpson integration of the truncated
   * normal's density over {@code [beta - 12 |gamma|, 0]} (20000 intervals), not by its closed form; {@code -3
   * |gamma|} where {@code P(x < 0) <= 0.001}, as the reference code does.
   */
  static double ofdMargin(double gamma, double beta) {
    double s = Math.abs(gamma);
    double lo = beta - 12 * s;
    if (lo >= 0) {
      return -3 * s;
    }
    int n = 20000;
    double h = -lo / n;
    double mass = 0;
    double moment = 0;
    for (int i = 0; i <= n; i++) {
      double x = lo + i * h;
      double f = Math.exp(-0.5 * ((x - beta) / s) * ((x - beta) / s)) / (s * Math.sqrt(2 * Math.PI));
      double c = i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2;
      mass += c * f;
      moment += c * x * f;
    }
    mass *= h / 3;
    moment *= h / 3;
    return mass > 1e-3 ? moment / mass : -3 * s;
  }

  /**
   * One OFD stage as the authors' code computes it: the teacher's map average-pooled by {@code k} (1: as it is),
   * clipped below at the margins, the student's map through a 1x1 convolution without bias and batch normalisation
   * with the batch's biased variance (epsilon 1e-5), then {@code sum (c - t)^2 [c > t or t > 0] / batch}.
   */
  static double ofdStage(
      double[] s, int batch, int h, int w, int cin, double[] t, int k, int cout, double[] margin,
      double[] kernel, double[] gamma, double[] beta) {
    int n = batch * h * w;
    double[] y = new double[n * cout];
    for (int p = 0; p < n; p++) {
      for (int o = 0; o < cout; o++) {
        double acc = 0;
        for (int c = 0; c < cin; c++) {
          acc += s[p * cin + c] * kernel[c * cout + o];
        }
        y[p * cout + o] = acc;
      }
    }
    double loss = 0;
    for (int o = 0; o < cout; o++) {
      double mean = 0;
      for (int p = 0; p < n; p++) {
        mean += y[p * cout + o] / n;
      }
      double var = 0;
      for (int p = 0; p < n; p++) {
        var += (y[p * cout + o] - mean) * (y[p * cout + o] - mean) / n;
      }
      for (int b = 0; b < batch; b++) {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < w; j++) {
            int p = (b * h + i) * w + j;
            double c = (y[p * cout + o] - mean) / Math.sqrt(var + 1e-5) * gamma[o] + beta[o];
            double pooled = 0;
            for (int di = 0; di < k; di++) {
              for (int dj = 0; dj < k; dj++) {
                pooled += t[((b * h * k + i * k + di) * w * k + j * k + dj) * cout + o] / (k * k);
              }
            }
            double target = Math.max(pooled, margin[o]);
            if (c > target || target > 0) {
              loss += (c - target) * (c - target);
            }
          }
        }
      }
    }
    return loss / batch;
  }
}
