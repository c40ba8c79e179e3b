package dev.spillway.relay.route;

import dev.spillway.relay.Message;

/** One value of a request on its way: the message it became and its request's {@link Ack}. */
record Pending(Message message, Ack ack) {}
