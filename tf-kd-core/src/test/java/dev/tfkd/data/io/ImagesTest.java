package dev.tfkd.data.io;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

/** The one pixel decoding: grey from the raster, RGB in [0, 1], channel conversion. */
class ImagesTest {
  @Test
  void greyImagesKeepTheirRasterValuesAndRgbConvertsBothWays() {
    BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
    grey.getRaster().setSample(0, 0, 0, 51);
    grey.getRaster().setSample(1, 0, 0, 204);
    Images.Pixels g = Images.pixels(grey);
    assertEquals(1, g.channels());
    // Read from the raster: getRGB would pass them through a colour-space conversion and change them.
    assertAllClose(g.values(), new float[] {0.2f, 0.8f}, 1e-6, 1e-7);
    assertAllClose(g.withChannels(3).values(), new float[] {0.2f, 0.2f, 0.2f, 0.8f, 0.8f, 0.8f}, 1e-6, 1e-7);

    BufferedImage rgb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    rgb.setRGB(0, 0, 255 << 16 | 0 << 8 | 51);
    Images.Pixels c = Images.pixels(rgb);
    assertAllClose(c.values(), new float[] {1f, 0f, 0.2f}, 1e-6, 1e-7);
    assertAllClose(c.withChannels(1).values(), new float[] {0.299f + 0.114f * 0.2f}, 1e-6, 1e-7);
    assertThrows(IllegalArgumentException.class, () -> c.withChannels(2));
  }
}
