// API Gateway's mapping templates, executed by an independent VTL engine:
// Apache Velocity 1.7 (Debian's `velocity` package), with `$input`, `$util`
// and `$context` written to AWS's "mapping template and access logging
// variable reference". The contract test (app/local/tests/it/contract.rs)
// runs every request and response template of infra/template.yaml through it.
//
// Run with Java's source launcher:
//   java -cp /usr/share/java/velocity.jar:/usr/share/java/commons-collections3.jar:/usr/share/java/commons-lang.jar:\
//     /usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar \
//     infra/emulator/ApiGatewayVtl.java < cases
// One case a line, tab-separated, each field base64 (UTF-8):
//   template, body, headers ("Name: value" lines), query ("name=value" lines),
//   request id, request time (epoch ms), HTTP method
// One answer a line, tab-separated: the status set through
// $context.responseOverride.status (or "-"), the headers set through
// $context.responseOverride.header ("Name: value" lines, base64), and the
// rendered text (base64).

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

public class ApiGatewayVtl {
    /** `$input`: the request (or, in a response template, the integration's answer). */
    public static class Input {
        private final String body;
        private final Map<String, Map<String, String>> params;

        Input(String body, Map<String, Map<String, String>> params) {
            this.body = body;
            this.params = params;
        }

        public String getBody() {
            return body;
        }

        /** All parameters: path, querystring, header. */
        public Map<String, Map<String, String>> params() {
            return params;
        }

        /** One parameter, looked up in path, then query string, then headers. */
        public String params(String name) {
            for (String kind : new String[] {"path", "querystring", "header"}) {
                String value = params.get(kind).get(name);
                if (value != null) {
                    return value;
                }
            }
            return "";
        }

        public String json(String path) {
            throw new UnsupportedOperationException("$input.json is not emulated; the templates do not use it");
        }

        /**
         * `$input.path('$')`: the body as maps, lists and values, read as
         * API Gateway reads it (Jackson: the first value, a repeated key's
         * last value). Only the root is emulated; the templates use no other.
         */
        public Object path(String path) throws java.io.IOException {
            if (!path.equals("$")) {
                throw new UnsupportedOperationException("$input.path is emulated for '$' only, not " + path);
            }
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(body, Object.class);
        }
    }

    /** `$util`, as AWS documents each function. */
    public static class Util {
        public String escapeJavaScript(String text) {
            StringBuilder out = new StringBuilder();
            for (char c : text.toCharArray()) {
                switch (c) {
                    case '"': out.append("\\\""); break;
                    case '\'': out.append("\\'"); break;
                    case '\\': out.append("\\\\"); break;
                    case '/': out.append("\\/"); break;
                    case '\n': out.append("\\n"); break;
                    case '\r': out.append("\\r"); break;
                    case '\t': out.append("\\t"); break;
                    case '\b': out.append("\\b"); break;
                    case '\f': out.append("\\f"); break;
                    default:
                        if (c < 0x20 || c > 0x7e) {
                            out.append(String.format("\\u%04X", (int) c));
                        } else {
                            out.append(c);
                        }
                }
            }
            return out.toString();
        }

        public String urlEncode(String text) {
            return URLEncoder.encode(text, StandardCharsets.UTF_8);
        }

        public String urlDecode(String text) {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        }

        public String base64Encode(String text) {
            return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
        }

        public String base64Decode(String text) {
            return new String(Base64.getDecoder().decode(text), StandardCharsets.UTF_8);
        }
    }

    private static String decode(String field) {
        return new String(Base64.getDecoder().decode(field), StandardCharsets.UTF_8);
    }

    private static Map<String, String> pairs(String text, String separator) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int at = line.indexOf(separator);
            if (at > 0) {
                map.put(line.substring(0, at), line.substring(at + separator.length()));
            }
        }
        return map;
    }

    public static void main(String[] args) throws Exception {
        VelocityEngine engine = new VelocityEngine();
        engine.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        engine.init();
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split("\t", -1);
            String template = decode(fields[0]);
            String body = decode(fields[1]);
            Map<String, Map<String, String>> params = new HashMap<>();
            params.put("path", new LinkedHashMap<>());
            params.put("querystring", pairs(decode(fields[3]), "="));
            params.put("header", pairs(decode(fields[2]), ": "));

            Map<String, Object> override = new HashMap<>();
            override.put("header", new LinkedHashMap<String, Object>());
            Map<String, Object> context = new HashMap<>();
            context.put("requestId", decode(fields[4]));
            context.put("requestTimeEpoch", Long.parseLong(decode(fields[5])));
            context.put("httpMethod", decode(fields[6]));
            context.put("responseOverride", override);

            VelocityContext vtl = new VelocityContext();
            vtl.put("input", new Input(body, params));
            vtl.put("util", new Util());
            vtl.put("context", context);
            StringWriter out = new StringWriter();
            engine.evaluate(vtl, out, "mapping-template", template);
            Object status = override.get("status");
            StringBuilder headers = new StringBuilder();
            for (Map.Entry<?, ?> header : ((Map<?, ?>) override.get("header")).entrySet()) {
                headers.append(header.getKey()).append(": ").append(header.getValue()).append('\n');
            }
            System.out.println((status == null ? "-" : status.toString()) + "\t"
                + Base64.getEncoder().encodeToString(headers.toString().getBytes(StandardCharsets.UTF_8)) + "\t"
                + Base64.getEncoder().encodeToString(out.toString().getBytes(StandardCharsets.UTF_8)));
        }
    }
}
