import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Holds a shared (read) fcntl lock on the file named by args[0], as another uid would; says "locked", waits for stdin to close. */
public class ReadLocker {
    public static void main(String[] args) throws Exception {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ)) {
            ch.lock(0, Long.MAX_VALUE, true);
            System.out.println("locked by uid " + new com.sun.security.auth.module.UnixSystem().getUid());
            System.out.flush();
            System.in.read();
        }
    }
}
