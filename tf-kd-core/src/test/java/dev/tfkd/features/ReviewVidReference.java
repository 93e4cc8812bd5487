package dev.tfkd.features;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ReviewKD and VID in plain float64 Java, written from the reference code (mdistiller's {@code ReviewKD.py} with its
 * {@code ABF} and {@code hcl_loss}, RepDistiller's {@code VIDLoss}), independently of the graph code: NHWC maps as
 * flat arrays, loops, and PyTorch's adaptive-average-pooling and nearest-neighbour index rules written out with
 * floating-point floor and ceiling.
 */
final class ReviewVidReference {
  private ReviewVidReference() {}

  /** An NHWC map. */
  record M(double[] v, int b, int h, int w, int c) {
    M(int b, int h, int w, int c) {
      this(new double[b * h * w * c], b, h, w, c);
    }

    int at(int n, int i, int j, int k) {
      return ((n * h + i) * w + j) * c + k;
    }
  }

  /** k x k convolution, padding (k-1)/2, stride 1; kernel {@code [k, k, cin, cout]}; bias may be null. */
  static M conv(M x, double[] kernel, int k, int cout, double[] bias) {
    M y = new M(x.b(), x.h(), x.w(), cout);
    int p = (k - 1) / 2;
    for (int n = 0; n < x.b(); n++) {
      for (int i = 0; i < x.h(); i++) {
        for (int j = 0; j < x.w(); j++) {
          for (int o = 0; o < cout; o++) {
            double acc = bias == null ? 0 : bias[o];
            for (int di = 0; di < k; di++) {
              for (int dj = 0; dj < k; dj++) {
                int ii = i + di - p;
                int jj = j + dj - p;
                if (ii < 0 || jj < 0 || ii >= x.h() || jj >= x.w()) {
                  continue;
                }
                for (int c = 0; c < x.c(); c++) {
                  acc += x.v()[x.at(n, ii, jj, c)] * kernel[((di * k + dj) * x.c() + c) * cout + o];
                }
              }
            }
            y.v()[y.at(n, i, j, o)] = acc;
          }
        }
      }
    }
    return y;
  }

  /** Batch normalisation with batch statistics (biased variance), epsilon 1e-5. */
  static M bn(M x, double[] gamma, double[] beta) {
    M y = new M(x.b(), x.h(), x.w(), x.c());
    int n = x.b() * x.h() * x.w();
    for (int o = 0; o < x.c(); o++) {
      double mean = 0;
      for (int q = 0; q < n; q++) {
        mean += x.v()[q * x.c() + o];
      }
      mean /= n;
      double var = 0;
      for (int q = 0; q < n; q++) {
        double d = x.v()[q * x.c() + o] - mean;
        var += d * d;
      }
      var /= n;
      for (int q = 0; q < n; q++) {
        y.v()[q * x.c() + o] = (x.v()[q * x.c() + o] - mean) / Math.sqrt(var + 1e-5) * gamma[o] + beta[o];
      }
    }
    return y;
  }

  static M relu(M x) {
    M y = new M(x.b(), x.h(), x.w(), x.c());
    for (int i = 0; i < x.v().length; i++) {
      y.v()[i] = Math.max(0, x.v()[i]);
    }
    return y;
  }

  /** PyTorch's adaptive_avg_pool2d: bin i spans [floor(i in / out), ceil((i + 1) in / out)). */
  static M adaptivePool(M x, int oh, int ow) {
    M y = new M(x.b(), oh, ow, x.c());
    for (int n = 0; n < x.b(); n++) {
      for (int i = 0; i < oh; i++) {
        int h0 = (int) Math.floor(i * (double) x.h() / oh);
        int h1 = (int) Math.ceil((i + 1) * (double) x.h() / oh);
        for (int j = 0; j < ow; j++) {
          int w0 = (int) Math.floor(j * (double) x.w() / ow);
          int w1 = (int) Math.ceil((j + 1) * (double) x.w() / ow);
          for (int k = 0; k < x.c(); k++) {
            double sum = 0;
            for (int a = h0; a < h1; a++) {
              for (int b = w0; b < w1; b++) {
                sum += x.v()[x.at(n, a, b, k)];
              }
            }
            y.v()[y.at(n, i, j, k)] = sum / ((h1 - h0) * (w1 - w0));
          }
        }
      }
    }
    return y;
  }

  /** F.interpolate(mode="nearest"): output i reads input floor(i in / out). */
  static M nearest(M x, int oh, int ow) {
    M y = new M(x.b(), oh, ow, x.c());
    for (int n = 0; n < x.b(); n++) {
      for (int i = 0; i < oh; i++) {
        int si = (int) Math.floor(i * (double) x.h() / oh);
        for (int j = 0; j < ow; j++) {
          int sj = (int) Math.floor(j * (double) x.w() / ow);
          for (int k = 0; k < x.c(); k++) {
            y.v()[y.at(n, i, j, k)] = x.v()[x.at(n, si, sj, k)];
          }
        }
      }
    }
    return y;
  }

  static double mse(M a, M b) {
    double s = 0;
    for (int i = 0; i < a.v().length; i++) {
      s += (a.v()[i] - b.v()[i]) * (a.v()[i] - b.v()[i]);
    }
    return s / a.v().length;
  }

  /** mdistiller's hcl_loss for one level. */
  static double hcl(M fs, M ft) {
    double loss = mse(fs, ft);
    double cnt = 1;
    double tot = 1;
    for (int l : new int[] {4, 2, 1}) {
      if (l >= fs.h()) {
        continue;
      }
      cnt /= 2;
      loss += mse(adaptivePool(fs, l, l), adaptivePool(ft, l, l)) * cnt;
      tot += cnt;
    }
    return loss / tot;
  }

  /**
   * ReviewKD's loss: {@code levels} are the student's maps shallow to deep (the pooled vector last, as a 1x1 map),
   * {@code teacher} the teacher's at the same levels; adapter weights by the graph's names under prefix {@code a_}.
   */
  static double reviewkd(List<M> levels, List<M> teacher, int mid, Map<String, double[]> a, double ramp) {
    List<Double> parts = new ArrayList<>();
    M residual = null;
    for (int l = levels.size() - 1; l >= 0; l--) {
      String p = "a_abf" + (l + 1) + "_";
      M s = levels.get(l);
      M x = bn(conv(s, a.get(p + "conv1_kernel"), 1, mid, null), a.get(p + "bn1_gamma"), a.get(p + "bn1_beta"));
      if (residual != null) {
        M y = nearest(residual, s.h(), s.w());
        M z = new M(s.b(), s.h(), s.w(), 2 * mid);
        for (int q = 0; q < s.b() * s.h() * s.w(); q++) {
          for (int k = 0; k < mid; k++) {
            z.v()[q * 2 * mid + k] = x.v()[q * mid + k];
            z.v()[q * 2 * mid + mid + k] = y.v()[q * mid + k];
          }
        }
        M att = conv(z, a.get(p + "att_kernel"), 1, 2, a.get(p + "att_bias"));
        M fused = new M(s.b(), s.h(), s.w(), mid);
        for (int q = 0; q < s.b() * s.h() * s.w(); q++) {
          double g0 = 1 / (1 + Math.exp(-att.v()[q * 2]));
          double g1 = 1 / (1 + Math.exp(-att.v()[q * 2 + 1]));
          for (int k = 0; k < mid; k++) {
            fused.v()[q * mid + k] = x.v()[q * mid + k] * g0 + y.v()[q * mid + k] * g1;
          }
        }
        x = fused;
      }
      M t = teacher.get(l);
      M o = bn(conv(x, a.get(p + "conv2_kernel"), 3, t.c(), null), a.get(p + "bn2_gamma"), a.get(p + "bn2_beta"));
      residual = x;
      parts.add(hcl(o, t));
    }
    return ramp * parts.stream().mapToDouble(Double::doubleValue).sum();
  }

  /** RepDistiller's VIDLoss for one stage, plus the adaptive pooling of the larger map (by height). */
  static double vidStage(M s, M t, String stage, Map<String, double[]> a) {
    if (s.h() > t.h()) {
      s = adaptivePool(s, t.h(), t.w());
    } else if (s.h() < t.h()) {
      t = adaptivePool(t, s.h(), s.w());
    }
    String p = "a_" + stage + "_";
    int c = t.c();
    M mu = conv(relu(conv(relu(conv(s, a.get(p + "conv1_kernel"), 1, c, null)), a.get(p + "conv2_kernel"), 1, c, null)),
        a.get(p + "conv3_kernel"), 1, c, null);
    double[] alpha = a.get(p + "alpha");
    double sum = 0;
    for (int i = 0; i < mu.v().length; i++) {
      double var = Math.log(1 + Math.exp(alpha[i % c])) + 1e-5;
      double d = mu.v()[i] - t.v()[i];
      sum += 0.5 * (d * d / var + Math.log(var));
    }
    return sum / mu.v().length;
  }
}
