package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.GovernorOptions;
import dev.governor.test.ChildJvm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * samples/kubernetes/ against the Kubernetes API and against the sample: every field is one the
 * API knows (read into the fabric8 model generated from Kubernetes' OpenAPI schema, with no field
 * left over), selectors match, ports and the image agree with the sample and its image build,
 * the probe and scrape paths answer on a live sample, and the grace period covers the drain delay
 * plus the shutdown timeout.
 */
class KubernetesManifestsTest {
    private static final Path DIR = Path.of("kubernetes");
    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private static <T> T read(String file, Class<T> type) {
        T value = YAML.readValue(DIR.resolve(file).toFile(), type);
        List<String> unknown = new ArrayList<>();
        unknownFields(value, file, unknown, new IdentityHashMap<>());
        assertThat(unknown)
                .as("fields the Kubernetes API does not know, in " + file)
                .isEmpty();
        return value;
    }

    /** Walks the model: a field the schema lacks lands in some object's additionalProperties. */
    private static void unknownFields(Object o, String where, List<String> out, Map<Object, Boolean> seen) {
        if (o == null || seen.put(o, true) != null) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                unknownFields(e, where + "[" + i++ + "]", out, seen);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> unknownFields(v, where + "." + k, out, seen));
            return;
        }
        if (!o.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method g : o.getClass().getMethods()) {
            if (g.getParameterCount() != 0
                    || Modifier.isStatic(g.getModifiers())
                    || !g.getName().startsWith("get")
                    || g.getDeclaringClass() == Object.class) {
                continue;
            }
            Object v;
            try {
                v = g.invoke(o);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
            if (g.getName().equals("getAdditionalProperties")) {
                if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    out.add(where + ": " + extra.keySet());
                }
            } else {
                unknownFields(v, where + "." + g.getName().substring(3), out, seen);
            }
        }
    }

    /** The jib configuration of the image profile in samples/pom.xml. */
    private static Element jibConfiguration() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(Path.of("pom.xml").toFile());
        NodeList plugins = pom.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            Element p = (Element) plugins.item(i);
            if (text(p, "artifactId").equals("jib-maven-plugin")) {
                return (Element) p.getElementsByTagName("configuration").item(0);
            }
        }
        throw new AssertionError("no jib-maven-plugin in samples/pom.xml");
    }

    private static String text(Element e, String tag) {
        NodeList l = e.getElementsByTagName(tag);
        return l.getLength() == 0 ? "" : l.item(0).getTextContent().strip();
    }

    private static List<String> texts(Element e, String tag) {
        NodeList l = e.getElementsByTagName(tag);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.getLength(); i++) {
            out.add(l.item(i).getTextContent().strip());
        }
        return out;
    }

    @Test
    void shouldBeValidKubernetesObjectsWhoseSelectorsMatch() {
        Deployment d = read("deployment.yaml", Deployment.class);
        Service s = read("service.yaml", Service.class);
        PodDisruptionBudget pdb = read("poddisruptionbudget.yaml", PodDisruptionBudget.class);
        assertThat(d.getApiVersion()).isEqualTo("apps/v1");
        assertThat(s.getApiVersion()).isEqualTo("v1");
        assertThat(pdb.getApiVersion()).isEqualTo("policy/v1");
        Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
        assertThat(podLabels).containsAllEntriesOf(s.getSpec().getSelector());
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        assertThat(pdb.getSpec().getMinAvailable().getIntVal())
                .isLessThan(d.getSpec().getReplicas());
        Container c = d.getSpec().getTemplate().getSpec().getContainers().getFirst();
        for (var port : s.getSpec().getPorts()) {
            assertThat(c.getPorts())
                    .as("the Service's targetPort " + port.getTargetPort().getStrVal() + " is a container port")
                    .extracting(ContainerPort::getName)
                    .contains(port.getTargetPort().getStrVal());
        }
    }

    @Test
    void shouldAgreeWithTheSampleAndItsImage() throws Exception {
        Deployment d = read("deployment.yaml", Deployment.class);
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();
        Map<String, Integer> ports = new java.util.HashMap<>();
        c.getPorts().forEach(p -> ports.put(p.getName(), p.getContainerPort()));
        assertThat(ports)
                .containsEntry("echo", SampleDaemon.ECHO_PORT)
                .containsEntry("http", SampleDaemon.METRICS_PORT);

        Element jib = jibConfiguration();
        assertThat(texts(jib, "port"))
                .containsExactlyInAnyOrder(
                        String.valueOf(SampleDaemon.ECHO_PORT), String.valueOf(SampleDaemon.METRICS_PORT));
        assertThat(c.getImage())
                .isEqualTo(text((Element) jib.getElementsByTagName("to").item(0), "image")
                        .replace("${project.version}", "0.1.0-SNAPSHOT"));
        String user = text(jib, "user");
        assertThat(user)
                .isEqualTo(pod.getSecurityContext().getRunAsUser() + ":"
                        + pod.getSecurityContext().getRunAsGroup());
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        List<String> args = texts(jib, "arg");
        assertThat(args).contains("--host=0.0.0.0", "--metrics-host=0.0.0.0");

        // the grace period covers the drain delay and the whole shutdown timeout
        Matcher drain = Pattern.compile("--drain=(\\d+)").matcher(String.join(" ", args));
        assertThat(drain.find()).as("the image sets a drain delay").isTrue();
        Duration drainDelay = Duration.ofMillis(Long.parseLong(drain.group(1)));
        Duration shutdownTimeout = GovernorOptions.builder().build().shutdownTimeout();
        assertThat(Duration.ofSeconds(pod.getTerminationGracePeriodSeconds()))
                .isGreaterThan(drainDelay.plus(shutdownTimeout));

        // probes and the scrape on the HTTP port
        HTTPGetAction ready = c.getReadinessProbe().getHttpGet();
        HTTPGetAction live = c.getLivenessProbe().getHttpGet();
        assertThat(ready.getPath()).isEqualTo("/readyz");
        assertThat(live.getPath()).isEqualTo("/healthz");
        assertThat(ready.getPort().getStrVal()).isEqualTo("http");
        assertThat(live.getPort().getStrVal()).isEqualTo("http");
        Map<String, String> scrape = d.getSpec().getTemplate().getMetadata().getAnnotations();
        assertThat(scrape)
                .containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", String.valueOf(SampleDaemon.METRICS_PORT));

        // the heap the JVM may take (MaxRAMPercentage of the limit) is set, and requests fit in limits
        assertThat(texts(jib, "jvmFlag")).contains("-XX:MaxRAMPercentage=75");
        Quantity request = c.getResources().getRequests().get("memory");
        Quantity limit = c.getResources().getLimits().get("memory");
        assertThat(Quantity.getAmountInBytes(request)).isLessThanOrEqualTo(Quantity.getAmountInBytes(limit));
        assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
        assertThat(c.getVolumeMounts())
                .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));

        // a live sample answers those paths: probes 200 once ready, the scrape is Prometheus text
        try (ChildJvm child = ChildJvm.builder(SampleDaemon.class)
                .arg("--port=0", "--metrics-port=0", "--tick=60000", "--flaky-fails=0")
                .start()) {
            child.awaitOutput(l -> l.contains("governor ready"), Duration.ofSeconds(60));
            String line = child.lines().stream()
                    .filter(l -> l.startsWith("status page: "))
                    .findFirst()
                    .orElseThrow();
            URI base = URI.create(line.substring("status page: ".length()).split("\\s+")[0])
                    .resolve("/");
            HttpClient http = HttpClient.newHttpClient();
            for (String path : List.of(ready.getPath(), live.getPath(), scrape.get("prometheus.io/path"))) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(path).isEqualTo(200);
            }
            child.signal("TERM");
            assertThat(child.awaitExit(Duration.ofSeconds(60))).isZero();
        }
    }
}
