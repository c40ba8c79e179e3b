package dev.spillway.relay.ingress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The replies of one connection, in request order: a request reserves a slot when it arrives;
 * its reply is written once it and every earlier reply are ready. Pipelined requests are
 * therefore answered in order, each only when its messages are durable.
 *
 * <p>Also the connection's backpressure: while the messages waiting for acks reach the
 * per-connection bound, or all connections' together reach the total bound, the channel stops
 * reading (autoRead off) rather than buffering. It reads again once its own messages are down to
 * half the per-connection bound and — when the total held it back — the total is down to half
 * the total bound. The total drains through other connections' acks as much as through ours, so
 * a connection held back by it leaves a waker with {@link InFlight} rather than waiting for acks
 * of its own, of which it may have none.
 *
 * <p>Confined to the channel's event loop: every method must be called there;
 * {@link #completeLater} hops there from any thread (or settles at once when the ack completes
 * on that event loop already).
 */
public final class ReplyQueue {

    /** Replies up to this size are merged with their neighbours into one buffer. */
    private static final int MERGE_MAX_BYTES = 256;

    private static final class Slot {
        Object reply;
        boolean ready;
        boolean closeAfter;
        int messages;
    }

    /** Where a channel's queue can be found by {@link IngressServer} during a drain. */
    static final AttributeKey<ReplyQueue> KEY = AttributeKey.valueOf("spillway.replies");

    private final ChannelHandlerContext ctx;
    private final InFlight inFlight;
    private final IngressMetrics metrics;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private int waitingMessages;
    private boolean paused;
    private boolean heldByTotal; // paused, and the total bound is (part of) why
    private boolean awaitingDrain; // a waker is with inFlight
    private boolean unwritable;
    private boolean closing;
    private boolean closeWhenDone;
    private boolean flushScheduled;

    public ReplyQueue(ChannelHandlerContext ctx, InFlight inFlight, IngressMetrics metrics) {
        this.ctx = ctx;
        this.inFlight = inFlight;
        this.metrics = metrics;
        ctx.channel().attr(KEY).set(this);
    }

    /**
     * For a drain: read nothing more, answer everything already taken, then close. Bytes the
     * client sends from now on are never processed, so a client that sees the close without a
     * reply can resend them elsewhere without risk of a duplicate.
     */
    public void closeWhenDone() {
        closing = true;
        closeWhenDone = true;
        applyAutoRead();
        if (slots.isEmpty()) {
            ctx.close();
        }
    }

    /** A reply that is ready now, written after every earlier one. */
    public void reply(Object reply) {
        Slot s = new Slot();
        s.reply = reply;
        s.ready = true;
        slots.add(s);
        flushReady();
    }

    /** The last reply: written after every earlier one, then the connection closes; later input is ignored. */
    public void replyAndClose(Object reply) {
        Slot s = new Slot();
        s.reply = reply;
        s.ready = true;
        s.closeAfter = true;
        slots.add(s);
        closing = true;
        ctx.channel().config().setAutoRead(false);
        flushReady();
    }

    /**
     * Reserves the next reply for a request carrying {@code messages} messages; when
     * {@code ack} completes, {@code toReply} turns its outcome (null or the error) into the reply.
     */
    public <T> void completeLater(int messages, CompletableFuture<T> ack, Function<Throwable, Object> toReply) {
        Slot s = new Slot();
        s.messages = messages;
        slots.add(s);
        long start = System.nanoTime();
        waitingMessages += messages;
        inFlight.add(messages);
        checkPause();
        ack.whenComplete((v, error) -> {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (cause == null) {
                metrics.acked(s.messages, start);
            } else {
                metrics.rejected(cause, s.messages);
            }
            if (ctx.executor().inEventLoop()) {
                settle(s, cause, toReply, true); // the ack came in on this connection's own event loop (shared with Redis I/O)
            } else {
                ctx.executor().execute(() -> settle(s, cause, toReply, false));
            }
        });
    }

    /**
     * Turns a slot's outcome into its reply and writes what is ready: at the end of the event
     * loop's current work when settled {@code inline} (see {@link #flushSoon}), at once when the
     * settle is a task of its own — a close queued behind it (a drain at its deadline) must find
     * the reply written.
     */
    private void settle(Slot s, Throwable cause, Function<Throwable, Object> toReply, boolean inline) {
        waitingMessages -= s.messages;
        inFlight.add(-s.messages);
        if (Rejections.isOutcomeUnknown(cause)) {
            // no reply at all: the earlier replies, then the connection closes, as in a crash
            s.closeAfter = true;
            closing = true;
            ctx.channel().config().setAutoRead(false);
        } else {
            s.reply = toReply.apply(cause);
        }
        s.ready = true;
        if (inline && !closing) {
            flushSoon();
        } else {
            flushReady();
        }
        checkResume();
    }

    /**
     * A client that does not read its replies fills our outbound buffer; while the channel is not
     * writable, stop reading its requests too. Call from {@code channelWritabilityChanged}.
     */
    public void writabilityChanged() {
        unwritable = !ctx.channel().isWritable();
        applyAutoRead();
    }

    /** True when this connection input is being ignored (closing after an error or QUIT). */
    public boolean isClosing() {
        return closing;
    }

    public IngressMetrics metrics() {
        return metrics;
    }

    /** Replies reserved or queued and not yet written. */
    public int pending() {
        return slots.size();
    }

    /** Releases replies that will never be written (the connection went away). */
    public void discard() {
        Slot s;
        while ((s = slots.poll()) != null) {
            if (s.reply != null) {
                ReferenceCountUtil.release(s.reply);
            }
        }
    }

    /**
     * Writes the ready replies once the event loop has finished what it is doing. One batch's
     * acks settle many requests of a pipelining connection one after another, inline on the event
     * loop that read the batch's reply; their replies leave together, in one write, instead of
     * one system call each.
     */
    private void flushSoon() {
        if (!flushScheduled) {
            flushScheduled = true;
            ctx.executor().execute(() -> {
                flushScheduled = false;
                flushReady();
            });
        }
    }

    /**
     * Writes every reply that is ready, in order, and flushes once. Consecutive replies that are
     * already bytes (pipelined acks) are copied into one buffer: one write instead of many.
     */
    private void flushReady() {
        boolean wrote = false;
        ByteBuf merged = null;
        while (!slots.isEmpty() && slots.peek().ready) {
            Slot s = slots.poll();
            if (!ctx.channel().isActive()) {
                ReferenceCountUtil.release(s.reply);
                continue;
            }
            if (s.reply instanceof ByteBuf bytes && !s.closeAfter && bytes.readableBytes() <= MERGE_MAX_BYTES) {
                if (merged == null) {
                    merged = ctx.alloc().ioBuffer(Math.max(64, bytes.readableBytes() * Math.min(slots.size() + 1, 64)));
                }
                merged.writeBytes(bytes, bytes.readerIndex(), bytes.readableBytes());
                bytes.release();
                continue;
            }
            if (merged != null) {
                ctx.write(merged);
                merged = null;
            }
            if (s.closeAfter) {
                if (s.reply == null) { // the earlier replies go out, then the connection closes
                    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                } else {
                    ctx.writeAndFlush(s.reply).addListener(ChannelFutureListener.CLOSE);
                }
                discard();
                return;
            }
            ctx.write(s.reply);
            wrote = true;
        }
        if (merged != null) {
            ctx.write(merged);
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
        if (closeWhenDone && slots.isEmpty()) {
            ctx.close();
        }
    }

    private void checkPause() {
        if (!paused && (waitingMessages >= inFlight.perConnectionLimit() || inFlight.overTotal())) {
            paused = true;
            heldByTotal = inFlight.overTotal();
            applyAutoRead();
            awaitTotalIfHeld();
        }
    }

    private void checkResume() {
        if (!paused || closing || waitingMessages > inFlight.perConnectionLimit() / 2) {
            return;
        }
        if (!heldByTotal && inFlight.overTotal()) {
            heldByTotal = true; // our own acks are done with; the total is what holds us now
        }
        if (heldByTotal ? inFlight.totalDrained() : !inFlight.overTotal()) {
            paused = false;
            heldByTotal = false;
            applyAutoRead();
        } else {
            awaitTotalIfHeld();
        }
    }

    /** Held back by the total: have {@link InFlight} wake us when it drains, once at a time. */
    private void awaitTotalIfHeld() {
        if (heldByTotal && !awaitingDrain) {
            awaitingDrain = true;
            inFlight.onTotalDrained(() -> ctx.executor().execute(() -> {
                awaitingDrain = false;
                checkResume();
            }));
        }
    }

    private void applyAutoRead() {
        ctx.channel().config().setAutoRead(!paused && !unwritable && !closing);
    }
}
