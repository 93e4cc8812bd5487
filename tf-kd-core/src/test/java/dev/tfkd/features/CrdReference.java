package dev.tfkd.features;

/**
 * CRD in plain float64 Java, written from RepDistiller's {@code crd/memory.py} and {@code crd/criterion.py}
 * independently of the graph code, in the style of {@link FeatureReference}: flat row-major arrays, loops. The
 * candidates (positive first, then the negatives) are given, as the reference's {@code contrast_idx} can be.
 */
final class CrdReference {
  private CrdReference() {}

  /** {@code normalize(x W + b)}: {@code x [B, in]}, {@code w [in, dim]}, {@code b [dim]}; norm floor 1e-12. */
  static double[] embed(double[] x, int batch, int in, double[] w, double[] b, int dim) {
    double[] e = new double[batch * dim];
    for (int i = 0; i < batch; i++) {
      double sq = 0;
      for (int d = 0; d < dim; d++) {
        double v = b[d];
        for (int c = 0; c < in; c++) {
          v += x[i * in + c] * w[c * dim + d];
        }
        e[i * dim + d] = v;
        sq += v * v;
      }
      double norm = Math.max(Math.sqrt(sq), 1e-12);
      for (int d = 0; d < dim; d++) {
        e[i * dim + d] /= norm;
      }
    }
    return e;
  }

  /** {@code exp(<bank[cand[i][k]], v_i> / tau)}, {@code [B][K+1]}. */
  static double[][] scores(double[] bank, double[] v, int[][] cand, int dim, double tau) {
    double[][] out = new double[cand.length][];
    for (int i = 0; i < cand.length; i++) {
      out[i] = new double[cand[i].length];
      for (int k = 0; k < cand[i].length; k++) {
        double dot = 0;
        for (int d = 0; d < dim; d++) {
          dot += bank[cand[i][k] * dim + d] * v[i * dim + d];
        }
        out[i][k] = Math.exp(dot / tau);
      }
    }
    return out;
  }

  /** The normalising constant the first batch sets: {@code n * mean(scores)}. */
  static double firstZ(double[][] scores, long n) {
    double sum = 0;
    int count = 0;
    for (double[] row : scores) {
      for (double x : row) {
        sum += x;
        count++;
      }
    }
    return n * sum / count;
  }

  /** {@code ContrastLoss} of {@code scores / z}. */
  static double nce(double[][] scores, double z, long n) {
    int m = scores[0].length - 1;
    double noise = (double) m / n;
    double eps = 1e-7;
    double sum = 0;
    for (double[] row : scores) {
      double pos = row[0] / z;
      sum += Math.log(pos / (pos + noise + eps));
      for (int k = 1; k <= m; k++) {
        sum += Math.log(noise / (row[k] / z + noise + eps));
      }
    }
    return -sum / scores.length;
  }

  /**
   * The whole loss for embeddings {@code vs}, {@code vt}, banks {@code ms}, {@code mt} and constants {@code zs},
   * {@code zt} (already set).
   */
  static double loss(
      double[] vs, double[] vt, double[] ms, double[] mt, int[][] cand, int dim, double tau, double zs, double zt, long n) {
    return nce(scores(mt, vs, cand, dim, tau), zs, n) + nce(scores(ms, vt, cand, dim, tau), zt, n);
  }

  /** A copy of {@code bank} with rows {@code index} moved: {@code normalize(momentum row + (1 - momentum) v_i)}. */
  static double[] update(double[] bank, int[] index, double[] v, int dim, double momentum) {
    double[] out = bank.clone();
    for (int i = 0; i < index.length; i++) {
      double[] row = new double[dim];
      double sq = 0;
      for (int d = 0; d < dim; d++) {
        row[d] = bank[index[i] * dim + d] * momentum + v[i * dim + d] * (1 - momentum);
        sq += row[d] * row[d];
      }
      double norm = Math.sqrt(sq);
      for (int d = 0; d < dim; d++) {
        out[index[i] * dim + d] = row[d] / norm;
      }
    }
    return out;
  }
}
