package dev.tfkd.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StudyCellsTest {
  @Test
  void aClaimedCellIsFinishedOnceAndReadBack(@TempDir Path root) {
    StudyCells cells = new StudyCells(root);
    String id = "test/seed-1/few-shot-0.05/kd-mcmi";
    assertTrue(cells.read(id).isEmpty());
    assertTrue(cells.claim(id));
    assertTrue(Files.exists(root.resolve(id + ".claim")));
    assertFalse(cells.claim(id), "a live owner keeps its claim");
    cells.finish(id, "{\"accuracy\":0.5,\"seed\":1}");
    assertFalse(Files.exists(root.resolve(id + ".claim")));
    assertEquals(0.5, (Double) cells.read(id).orElseThrow().get("accuracy"));
    assertFalse(cells.claim(id), "a finished cell is never run again");
    cells.finish("test/seed-2/teacher-mll", "{\"seed\":2}");
    assertEquals(2, cells.all("test").size());
    assertEquals(0, cells.all("validation").size());
    assertThrows(IllegalArgumentException.class, () -> cells.read("../escape"));
  }

  @Test
  void exactlyOneOfManyConcurrentClaimantsWins(@TempDir Path root) throws Exception {
    StudyCells cells = new StudyCells(root);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Boolean>> tasks = java.util.Collections.nCopies(16, () -> cells.claim("a/b"));
      int winners = 0;
      for (Future<Boolean> f : pool.invokeAll(tasks)) {
        winners += f.get() ? 1 : 0;
      }
      assertEquals(1, winners);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClaimOfADeadProcessIsTakenOverButNotOneFromAnotherHost(@TempDir Path root) throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    long dead = p.pid();
    String host = InetAddress.getLocalHost().getHostName();
    Files.createDirectories(root.resolve("x"));
    Files.writeString(root.resolve("x/stale.claim"), dead + "@" + host);
    Files.writeString(root.resolve("x/remote.claim"), ProcessHandle.current().pid() + "@another-host.invalid");
    StudyCells cells = new StudyCells(root);
    assertFalse(cells.claimedElsewhere("x/stale"));
    assertTrue(cells.claim("x/stale"), "the owner is gone");
    assertTrue(cells.claimedElsewhere("x/remote"));
    assertFalse(cells.claim("x/remote"), "a claim from another host is never taken over");
    cells.release("x/stale");
    assertFalse(Files.exists(root.resolve("x/stale.claim")));
  }
}
