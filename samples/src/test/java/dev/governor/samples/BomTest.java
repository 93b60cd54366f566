package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * governor-bom lists every published module of the reactor (those that do not set
 * {@code governor.unpublished}) at the reactor's version, and carries the same release metadata as
 * the parent, which it cannot inherit.
 */
class BomTest {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private static Document xml(Path p) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile());
    }

    /** The text of the direct child {@code tag} of {@code e}. */
    private static String child(Element e, String tag) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(tag)) {
                return c.getTextContent().strip();
            }
        }
        return "";
    }

    @Test
    void shouldListEveryPublishedModuleAtTheReactorsVersion() throws Exception {
        Element parent = xml(ROOT.resolve("pom.xml")).getDocumentElement();
        String version = child(parent, "version");
        List<String> published = new ArrayList<>();
        NodeList modules = parent.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            String module = modules.item(i).getTextContent().strip();
            Element pom = xml(ROOT.resolve(module).resolve("pom.xml")).getDocumentElement();
            if (child(pom, "packaging").equals("pom")
                    || Files.readString(ROOT.resolve(module).resolve("pom.xml"))
                            .contains("<governor.unpublished>true</governor.unpublished>")) {
                continue;
            }
            published.add(child(pom, "artifactId"));
        }
        assertThat(published)
                .contains("governor-api", "governor-runtime", "governor-test", "governorctl")
                .doesNotContain("samples", "benchmarks");

        Element bom = xml(ROOT.resolve("governor-bom/pom.xml")).getDocumentElement();
        assertThat(child(bom, "version")).isEqualTo(version);
        List<String> managed = new ArrayList<>();
        NodeList deps = bom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            assertThat(child(d, "groupId")).isEqualTo("dev.governor");
            assertThat(child(d, "version")).as(child(d, "artifactId")).isEqualTo(version);
            managed.add(child(d, "artifactId"));
        }
        assertThat(managed).containsExactlyInAnyOrderElementsOf(published);

        String parentText = Files.readString(ROOT.resolve("pom.xml"));
        String url = child((Element) parent.getElementsByTagName("properties").item(0), "governor.repository.url");
        assertThat(child(bom, "url")).isEqualTo(url);
        for (String tag : List.of("licenses", "developers", "scm")) {
            assertThat(bom.getElementsByTagName(tag).getLength()).as(tag).isEqualTo(1);
            assertThat(parentText).contains("<" + tag + ">");
        }
        assertThat(child((Element) bom.getElementsByTagName("license").item(0), "name"))
                .isEqualTo(
                        child((Element) parent.getElementsByTagName("license").item(0), "name"));
    }
}
