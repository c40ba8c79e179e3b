package dev.spillway.relay.security;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A key pattern as Redis ACL rules ({@code ~orders:*}) and {@code KEYS} read it: {@code *} any
 * run of bytes, {@code ?} any one byte, {@code [abc]}, {@code [a-z]} and {@code [^abc]} one byte
 * of (or not of) a set, {@code \} takes the next character literally. Keys are binary, so the
 * pattern is matched byte by byte against the key (the pattern's text as UTF-8).
 *
 * <p>Compiled once; matching is linear in the key for each star, never exponential: every token
 * but {@code *} consumes exactly one byte, so the classic backtrack-to-the-last-star walk is exact.
 *
 * <p>Immutable; thread-safe.
 */
public final class KeyPattern {

    private final String text;
    /** Per token: null for {@code *}, else the set of bytes it accepts (256 bits). */
    private final long[][] tokens;

    private KeyPattern(String text, long[][] tokens) {
        this.text = text;
        this.tokens = tokens;
    }

    /** Compiles {@code glob}; any text is a valid pattern, as in Redis. */
    public static KeyPattern compile(String glob) {
        byte[] p = glob.getBytes(StandardCharsets.UTF_8);
        List<long[]> out = new ArrayList<>();
        int i = 0;
        while (i < p.length) {
            byte c = p[i];
            if (c == '*') {
                if (out.isEmpty() || out.get(out.size() - 1) != null) {
                    out.add(null); // a run of stars is one star
                }
                i++;
            } else if (c == '?') {
                out.add(new long[] {-1L, -1L, -1L, -1L});
                i++;
            } else if (c == '[') {
                long[] set = new long[4];
                i = parseClass(p, i + 1, set);
                out.add(set);
            } else {
                if (c == '\\' && i + 1 < p.length) {
                    i++;
                }
                out.add(single(p[i]));
                i++;
            }
        }
        return new KeyPattern(glob, out.toArray(new long[0][]));
    }

    /** Reads a class from just after its {@code [}; returns the index after its {@code ]} (or the end). */
    private static int parseClass(byte[] p, int i, long[] set) {
        boolean negate = i < p.length && p[i] == '^';
        if (negate) {
            i++;
        }
        while (i < p.length && p[i] != ']') {
            if (p[i] == '\\' && i + 1 < p.length) {
                add(set, p[i + 1] & 0xFF, p[i + 1] & 0xFF);
                i += 2;
            } else if (i + 2 < p.length && p[i + 1] == '-' && p[i + 2] != ']') {
                int a = p[i] & 0xFF;
                int b = p[i + 2] & 0xFF;
                add(set, Math.min(a, b), Math.max(a, b)); // Redis swaps a reversed range
                i += 3;
            } else {
                add(set, p[i] & 0xFF, p[i] & 0xFF);
                i++;
            }
        }
        if (negate) {
            for (int w = 0; w < 4; w++) {
                set[w] = ~set[w];
            }
        }
        return i < p.length ? i + 1 : i; // an unclosed class ends with the pattern, as in Redis
    }

    private static void add(long[] set, int from, int to) {
        for (int b = from; b <= to; b++) {
            set[b >>> 6] |= 1L << (b & 63);
        }
    }

    private static long[] single(byte b) {
        long[] set = new long[4];
        add(set, b & 0xFF, b & 0xFF);
        return set;
    }

    private static boolean accepts(long[] set, byte b) {
        int v = b & 0xFF;
        return (set[v >>> 6] & (1L << (v & 63))) != 0;
    }

    public boolean matches(byte[] key) {
        int t = 0;
        int k = 0;
        int afterStar = -1; // token index just after the last star seen
        int starKey = 0; // the key index that star is currently made to end at
        while (k < key.length) {
            if (t < tokens.length && tokens[t] != null && accepts(tokens[t], key[k])) {
                t++;
                k++;
            } else if (t < tokens.length && tokens[t] == null) {
                afterStar = ++t;
                starKey = k;
            } else if (afterStar >= 0) {
                t = afterStar; // let the last star take one more byte, and try again from there
                k = ++starKey;
            } else {
                return false;
            }
        }
        while (t < tokens.length && tokens[t] == null) {
            t++;
        }
        return t == tokens.length;
    }

    /** The pattern as written. */
    @Override
    public String toString() {
        return text;
    }
}
