package dev.spillway.relay.ingress.resp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class InlineArgsTest {

    private static List<String> split(String line) {
        List<byte[]> args = InlineArgs.split(line);
        return args == null ? null : args.stream().map(a -> new String(a, StandardCharsets.ISO_8859_1)).toList();
    }

    @Test
    void splitsOnWhitespaceAndQuotesLikeRedis() {
        assertThat(split("  RPUSH\tq  v \r\n")).containsExactly("RPUSH", "q", "v");
        assertThat(split("RPUSH \"\" ''")).containsExactly("RPUSH", "", "");
        assertThat(split("SET \"a b\" 'c d'")).containsExactly("SET", "a b", "c d");
        assertThat(split("x \"\\n\\r\\t\\b\\a\\\\\\\"\\q\\x41\\x4\"")).containsExactly("x", "\n\r\t\b\u0007\\\"qA" + "x4");
        assertThat(split("x 'it\\'s \\n'")).containsExactly("x", "it's \\n");
        assertThat(split("a\"b c\"d")).as("a closing quote must end its argument").isNull();
        assertThat(split("a\"b c\" d")).containsExactly("ab c", "d");
        assertThat(split("")).isEmpty();
        assertThat(split("   ")).isEmpty();
    }

    @Test
    void refusesUnbalancedQuotes() {
        assertThat(split("RPUSH \"q v")).isNull();
        assertThat(split("RPUSH 'q v")).isNull();
        assertThat(split("RPUSH \"q\"x v")).isNull();
        assertThat(split("RPUSH 'q'x v")).isNull();
        assertThat(split("RPUSH \"q\\\"")).isNull();
    }

    @Property(tries = 2_000)
    void anyBytesQuotedWithEscapesComeBackExactly(@ForAll @Size(max = 6) List<byte[]> args) {
        StringBuilder line = new StringBuilder();
        for (byte[] arg : args) {
            line.append(" \"");
            for (byte b : arg) {
                if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') {
                    line.append((char) b);
                } else {
                    line.append(String.format("\\x%02x", b & 0xff));
                }
            }
            line.append('"');
        }
        List<byte[]> got = InlineArgs.split(line.toString());
        assertThat(got).hasSameSizeAs(args);
        for (int i = 0; i < args.size(); i++) {
            assertThat(got.get(i)).isEqualTo(args.get(i));
        }
    }
}
