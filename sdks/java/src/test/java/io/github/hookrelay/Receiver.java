package io.github.hookrelay;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** A real HTTP endpoint on loopback that records what the worker delivers to it and answers with status. */
final class Receiver implements AutoCloseable {
    record Received(Map<String, List<String>> headers, byte[] body) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    private final HttpServer server;
    private final List<Received> got = new ArrayList<>();
    volatile int status = 200;

    Receiver() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            synchronized (got) {
                got.add(new Received(Map.copyOf(exchange.getRequestHeaders()), body));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    int count() {
        synchronized (got) {
            return got.size();
        }
    }

    List<Received> waitFor(int n) {
        ApiTest.eventually("%d deliveries".formatted(n), () -> count() >= n);
        synchronized (got) {
            return List.copyOf(got.subList(0, n));
        }
    }

    Received withId(String webhookId) {
        Predicate<Received> match = r -> webhookId.equals(r.header("webhook-id"));
        ApiTest.eventually("a delivery of " + webhookId, () -> {
            synchronized (got) {
                return got.stream().anyMatch(match);
            }
        });
        synchronized (got) {
            return got.stream().filter(match).findFirst().orElseThrow();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
