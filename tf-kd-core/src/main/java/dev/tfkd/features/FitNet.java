package dev.tfkd.features;

import dev.tfkd.losses.Parameter;
import dev.tfkd.training.FeatureInputs;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * FitNets hints (Romero et al., ICLR 2015), as the reference tables train them: the student's stage {@code s}
 * (after its ReLU; default 2, the middle stage of a CIFAR ResNet) goes through a regressor, a 3x3 convolution with
 * bias to the teacher's channel count, batch normalisation and ReLU (RepDistiller's {@code ConvReg}; stride 2 when
 * the student's map is twice the teacher's size), and the loss is the mean squared error to the teacher's stage
 * {@code s}: {@code mean (r(S_s) - T_s)^2}. The regressor is an adapter: trained with the student, never exported.
 * The paper's two-stage variant is two terms, e.g. {@code fitnet(stage=1):100, fitnet(stage=2):100}. Default
 * weight 100.
 *
 * @param stage the stage, from 1
 */
public record FitNet(int stage) implements FeatureLoss {
  /** The hint weight RepDistiller's CIFAR-100 table uses. */
  public static final float DEFAULT_WEIGHT = 100f;
  /** The stage the hint is on. */
  public static final Parameter STAGE = Parameter.integer("stage", 2, 1, 16);

  /** Checks the stage against its bounds. */
  public FitNet {
    STAGE.check("fitnet", stage);
  }

  @Override
  public String name() {
    return "fitnet";
  }

  @Override
  public String spec() {
    return FeatureLosses.spec(name(), "stage", stage);
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    String point = "stage" + stage;
    Operand<TFloat32> s = Points.student(name(), in, point);
    Operand<TFloat32> t = Points.teacher(name(), in, point);
    long sh = s.shape().get(1);
    long th = t.shape().get(1);
    int stride;
    if (sh == th && s.shape().get(2) == t.shape().get(2)) {
      stride = 1;
    } else if (sh == 2 * th && s.shape().get(2) == 2 * t.shape().get(2)) {
      stride = 2;
    } else {
      throw new IllegalArgumentException(
          "fitnet: the student's " + point + " is " + sh + "x" + s.shape().get(2) + ", the teacher's " + th + "x"
              + t.shape().get(2) + ": the regressor maps equal sizes or halves the student's");
    }
    int channels = (int) t.shape().get(3);
    String p = adapterPrefix + "regressor";
    Operand<TFloat32> r = Adapters.conv(tf, in.adapters(), p + "_conv", s, 3, channels, stride);
    r = tf.nn.relu(Adapters.batchNorm(tf, in.adapters(), p + "_bn", r));
    return FeatureOps.meanAll(tf, tf.math.square(tf.math.sub(r, t)));
  }
}
