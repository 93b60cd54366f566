package dev.governor.runtime.daemon;

import dev.governor.runtime.metrics.GovernorEndpoint;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** Reads a page of a running {@link GovernorEndpoint} over real HTTP, for the status views' tests. */
final class EndpointPages {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** The body of {@code path} (say {@code /status.json}) on {@code endpoint}. */
    static String get(GovernorEndpoint endpoint, String path) throws IOException, InterruptedException {
        return CLIENT.send(
                        HttpRequest.newBuilder(endpoint.uri().resolve(path)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private EndpointPages() {}
}
