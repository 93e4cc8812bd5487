package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Reads a folder of images with one sub-folder per class: {@code root/<class>/<image>}. Classes are the sub-folder
 * names in sorted order (label 0 is the first); images are the files ending in {@code .png}, {@code .jpg},
 * {@code .jpeg}, {@code .bmp} or {@code .gif} (other files, such as a README, are not images and are not read).
 * All images must have the same height and width; the dataset has 1 channel when every image is grey, 3 otherwise
 * (grey images replicated, alpha dropped). Pixels are scaled to [0, 1]. A class folder holding anything that is
 * neither a regular file nor a folder (a named pipe, a socket, a device, a dangling link) is refused, naming it,
 * without opening it.
 */
public final class ImageFolderReader {
  private ImageFolderReader() {}

  private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

  /** Whether {@code name} has an image extension this reader reads. */
  public static boolean isImageName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return EXTENSIONS.stream().anyMatch(n::endsWith);
  }

  /** Whether {@code dir} looks like an image folder: a sub-folder holding at least one image file. */
  public static boolean looksLikeImageFolder(Path dir) {
    try (Stream<Path> classes = Files.list(dir)) {
      return classes.filter(Files::isDirectory).anyMatch(ImageFolderReader::hasImages);
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean hasImages(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.anyMatch(f -> Files.isRegularFile(f) && isImageName(f.getFileName().toString()));
    } catch (IOException e) {
      return false;
    }
  }

  /** Reads {@code root}. */
  public static Dataset read(Path root) {
    List<Path> classDirs;
    try (Stream<Path> s = Files.list(root)) {
      classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
    } catch (IOException e) {
      throw new DataFormatException(root, "", "cannot list: " + e.getMessage(), e);
    }
    if (classDirs.isEmpty()) {
      throw new DataFormatException(root, "", "no class sub-folders (expected root/<class>/<image files>)");
    }
    List<Images.Pixels> images = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    Path firstFile = null;
    int channels = 1;
    long pixels = 0;
    for (int k = 0; k < classDirs.size(); k++) {
      List<Path> files;
      try (Stream<Path> s = Files.list(classDirs.get(k))) {
        List<Path> entries = s.sorted().toList();
        for (Path p : entries) {
          // A pipe, socket or device among the images is refused by name, never opened: opening a FIFO blocks
          // until someone writes to it. Sub-folders are not images and are not read.
          if (!Files.isRegularFile(p) && !Files.isDirectory(p)) {
            throw new DataFormatException(
                p, "", Files.isSymbolicLink(p) ? "a link to nothing, or to something that is not a file"
                    : "not a regular file (a pipe, socket or device) in an image folder");
          }
        }
        files = entries.stream().filter(Files::isRegularFile).filter(p -> isImageName(p.getFileName().toString())).toList();
      } catch (IOException e) {
        throw new DataFormatException(classDirs.get(k), "", "cannot list: " + e.getMessage(), e);
      }
      for (Path f : files) {
        Images.Pixels p;
        try {
          // readAllBytes throws an OutOfMemoryError for a file past an array's size: checked first.
          Bytes.checkHeap(f, "", Files.size(f), "reading the " + Files.size(f) + "-byte file");
          if (Files.size(f) > Integer.MAX_VALUE - 16) {
            throw new DataFormatException(f, "", Files.size(f) + " bytes is too large for one image file");
          }
          p = Images.decode(Files.readAllBytes(f));
        } catch (DataFormatException e) {
          throw e;
        } catch (java.nio.file.AccessDeniedException e) {
          throw Bytes.cannotRead(f, e);
        } catch (IOException | RuntimeException e) {
          throw new DataFormatException(f, "", "cannot decode the image: " + e.getMessage(), e);
        }
        if (p == null) {
          throw new DataFormatException(f, "", "not an image javax.imageio can decode (corrupt, or an unsupported format)");
        }
        if (firstFile == null) {
          firstFile = f;
        } else if (p.height() != images.get(0).height() || p.width() != images.get(0).width()) {
          throw new DataFormatException(
              f, "", "image is " + p.height() + "x" + p.width() + " but " + firstFile + " is " + images.get(0).height()
                  + "x" + images.get(0).width() + " (all images must have the same size)");
        }
        channels = Math.max(channels, p.channels());
        // Encoded images expand up to a thousandfold: the pixels so far, as RGB, and their final copy must fit.
        pixels += (long) p.height() * p.width();
        Bytes.checkHeap(f, "", 2L * 3 * Float.BYTES * pixels, "the " + pixels + " pixels decoded so far");
        images.add(p);
        labels.add(k);
      }
    }
    if (images.isEmpty()) {
      throw new DataFormatException(root, "", "no image files in the class sub-folders");
    }
    int h = images.get(0).height();
    int w = images.get(0).width();
    int e = h * w * channels;
    if ((long) images.size() * e > Integer.MAX_VALUE - 16) {
      throw new DataFormatException(root, "", images.size() + " images of " + e + " values do not fit in one array");
    }
    float[] x = new float[images.size() * e];
    int[] y = new int[images.size()];
    for (int i = 0; i < images.size(); i++) {
      Images.Pixels p = channels == 3 ? images.get(i).toRgb() : images.get(i);
      System.arraycopy(p.values(), 0, x, i * e, e);
      y[i] = labels.get(i);
    }
    return new Dataset(root.getFileName() == null ? root.toString() : root.getFileName().toString(), x, y,
        new long[] {h, w, channels}, classDirs.size(), null);
  }

  /** The class names of {@code root} in label order. */
  public static List<String> classNames(Path root) throws IOException {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
    }
  }
}
