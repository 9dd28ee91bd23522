import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.PathNotFoundException;
import com.jayway.jsonpath.spi.json.JacksonJsonProvider;
import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

/**
 * Render renders API Gateway REST API mapping templates with Apache Velocity 1.7, the engine API
 * Gateway's mapping templates are based on, and the variables the mapping template reference
 * describes (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html):
 *
 * <ul>
 *   <li>{@code $input.body}, {@code $input.json(x)}, {@code $input.path(x)} (JSONPath by Jayway
 *       JsonPath, which the reference names), {@code $input.params()} and {@code $input.params(x)}
 *       (path, then query string, then header);
 *   <li>{@code $util.escapeJavaScript}, {@code parseJson}, {@code base64Encode}, {@code base64Decode},
 *       {@code urlEncode}, {@code urlDecode};
 *   <li>{@code $context.*} as the request description gives it, with
 *       {@code $context.requestOverride.header|path|querystring.NAME} and
 *       {@code $context.responseOverride.header.NAME|status}, each of which may be set once only
 *       (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html:
 *       "Overrides are final"); a second assignment is an error, as API Gateway answers it with a 5XX;
 *   <li>{@code $stageVariables.NAME}.
 * </ul>
 *
 * <p>A #foreach loop stops after 1,000 iterations, API Gateway's quota for mapping templates.
 *
 * <p>Usage: {@code java Render TEMPLATE_FILE < request.json} renders one template and prints one
 * result; {@code java Render < requests.ndjson} reads one request per line, each with the template
 * in its {@code "template"} member, and prints one result line per request, so that one JVM serves
 * many renderings. A request is a JSON object:
 *
 * <pre>
 * {"template": "...", "body": "raw payload",
 *  "params": {"path": {}, "querystring": {}, "header": {}},
 *  "context": {"requestId": "...", "identity": {"sourceIp": "..."}, ...},
 *  "stageVariables": {}}
 * </pre>
 *
 * For a request template, body is the method request payload; for a response template, the
 * integration response payload (params then still hold the method request's parameters). A result is
 * {@code {"output": "...", "requestOverride": {...}, "responseOverride": {...}}}, or
 * {@code {"error": "..."}} when the template does not parse or a method it calls fails.
 */
public final class Render {
    private final VelocityEngine engine = new VelocityEngine();

    private Render() {
        engine.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        engine.setProperty("directive.foreach.maxloops", "1000");
        engine.init();
    }

    public static void main(String[] args) throws Exception {
        Render r = new Render();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        if (args.length == 1) {
            String template = new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8);
            StringBuilder req = new StringBuilder();
            for (String line; (line = in.readLine()) != null; ) {
                req.append(line).append('\n');
            }
            out.println(r.renderRequest(template, req.toString()));
        } else if (args.length == 0) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.trim().isEmpty()) {
                    continue;
                }
                out.println(r.renderRequest(null, line));
                out.flush();
            }
        } else {
            System.err.println("usage: java Render [TEMPLATE_FILE] < request.json");
            System.exit(2);
        }
        out.flush();
    }

    /** renderRequest renders one request description and returns the result as a JSON line. */
    private String renderRequest(String template, String requestJSON) {
        Map<String, Object> result = new LinkedHashMap<>();
        try {
            Object parsed = Json.parse(requestJSON);
            if (!(parsed instanceof Map)) {
                throw new IllegalArgumentException("the request description is not a JSON object");
            }
            Map<?, ?> req = (Map<?, ?>) parsed;
            if (template == null) {
                template = string(req.get("template"));
            }
            result.putAll(render(template, req));
        } catch (Exception e) {
            result.clear();
            result.put("error", message(e));
        }
        try {
            return Json.write(result);
        } catch (IOException e) {
            return "{\"error\":\"cannot encode the result\"}";
        }
    }

    private Map<String, Object> render(String template, Map<?, ?> req) throws Exception {
        Map<String, Object> params = new LinkedHashMap<>();
        for (String kind : new String[] {"path", "querystring", "header"}) {
            params.put(kind, stringMap(map(map(req.get("params")).get(kind))));
        }
        Map<String, Object> context = copy(map(req.get("context")));
        Map<String, Object> requestOverride = new LinkedHashMap<>();
        requestOverride.put("header", new OverrideMap("requestOverride.header"));
        requestOverride.put("path", new OverrideMap("requestOverride.path"));
        requestOverride.put("querystring", new OverrideMap("requestOverride.querystring"));
        OverrideMap responseOverride = new OverrideMap("responseOverride");
        OverrideMap responseHeaders = new OverrideMap("responseOverride.header");
        responseOverride.putInitial("header", responseHeaders);
        context.put("requestOverride", requestOverride);
        context.put("responseOverride", responseOverride);

        VelocityContext vc = new VelocityContext();
        vc.put("input", new Input(req.get("body") == null ? "" : string(req.get("body")), params));
        vc.put("util", new Util());
        vc.put("context", context);
        vc.put("stageVariables", stringMap(map(req.get("stageVariables"))));

        StringWriter w = new StringWriter();
        engine.evaluate(vc, w, "template", template);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("output", w.toString());
        out.put("requestOverride", requestOverride);
        out.put("responseOverride", responseOverride);
        return out;
    }

    private static String message(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (b.length() > 0) {
                b.append(": ");
            }
            b.append(c.getClass().getSimpleName());
            if (c.getMessage() != null) {
                b.append(" ").append(c.getMessage().split("\n")[0]);
            }
        }
        return b.toString();
    }

    private static String string(Object v) {
        if (v == null) {
            return "";
        }
        return v instanceof String ? (String) v : String.valueOf(v);
    }

    private static Map<?, ?> map(Object v) {
        return v instanceof Map ? (Map<?, ?>) v : new LinkedHashMap<>();
    }

    private static Map<String, Object> stringMap(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            out.put(string(e.getKey()), string(e.getValue()));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> copy(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            Object v = e.getValue();
            out.put(string(e.getKey()), v instanceof Map ? copy((Map<?, ?>) v) : v);
        }
        return out;
    }

    /** Override is an override map: each name may be set once ("Overrides are final"). */
    public static final class OverrideMap extends LinkedHashMap<String, Object> {
        private static final long serialVersionUID = 1L;
        private final String name;
        private final transient Set<String> initial = new HashSet<>();

        OverrideMap(String name) {
            this.name = name;
        }

        void putInitial(String key, Object value) {
            initial.add(key);
            super.put(key, value);
        }

        @Override
        public Object put(String key, Object value) {
            if (initial.contains(key) || containsKey(key)) {
                throw new IllegalStateException("$context." + name + "." + key + " is overridden twice; API Gateway answers 5XX");
            }
            return super.put(key, value);
        }
    }

    /** Input is $input: the payload and the method request's parameters. */
    public static final class Input {
        private final String body;
        private final Map<String, Object> params;
        private Object doc;
        private boolean parsed;

        Input(String body, Map<String, Object> params) {
            this.body = body;
            this.params = params;
        }

        /** getBody is $input.body: the raw payload as a string. */
        public String getBody() {
            return body;
        }

        private Object doc() throws Exception {
            if (!parsed) {
                doc = body.trim().isEmpty() ? new LinkedHashMap<String, Object>() : Json.parse(body);
                parsed = true;
            }
            return doc;
        }

        /** path is $input.path(x): the value at JSONPath x, as a Java object (null when absent). */
        public Object path(String x) throws Exception {
            try {
                return JsonPath.compile(x).read(doc(), Json.PATHS);
            } catch (PathNotFoundException e) {
                return null;
            }
        }

        /** json is $input.json(x): the value at JSONPath x, as JSON text. */
        public String json(String x) throws Exception {
            return Json.write(path(x));
        }

        /** params is $input.params(): {path, querystring, header}. */
        public Map<String, Object> params() {
            return params;
        }

        /** params is $input.params(x): the parameter from the path, query string or header. */
        public String params(String x) {
            for (String kind : new String[] {"path", "querystring", "header"}) {
                Object v = ((Map<?, ?>) params.get(kind)).get(x);
                if (v != null) {
                    return (String) v;
                }
            }
            return "";
        }
    }

    /** Util is $util. Strings are UTF-8, as the reference says. */
    public static final class Util {
        /**
         * escapeJavaScript escapes with JavaScript string rules, turning ' into \' as the reference
         * warns (commons-lang StringEscapeUtils, which ships beside Velocity 1.7).
         */
        public String escapeJavaScript(String s) {
            return StringEscapeUtils.escapeJavaScript(s);
        }

        public Object parseJson(String s) throws Exception {
            return Json.parse(s);
        }

        public String urlEncode(String s) throws Exception {
            return URLEncoder.encode(s, "UTF-8");
        }

        public String urlDecode(String s) throws Exception {
            return URLDecoder.decode(s, "UTF-8");
        }

        public String base64Encode(String s) {
            return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        public String base64Decode(String s) {
            return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
        }
    }

    /** JSONList is a JSON array; count() is the size, as the reference's $input.path example uses it. */
    public static final class JSONList extends ArrayList<Object> {
        private static final long serialVersionUID = 1L;

        public int count() {
            return size();
        }
    }

    /**
     * Json reads and writes JSON with Jackson, keeping the order of members. (Debian 12's json-smart,
     * JsonPath's default, refuses an array of more than about 200 nested objects as "malicious".)
     */
    static final class Json {
        private static final ObjectMapper MAPPER = new ObjectMapper()
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        static final Configuration PATHS = Configuration.builder().jsonProvider(new JacksonJsonProvider(MAPPER)).build();

        static Object parse(String s) throws Exception {
            return convert(MAPPER.readValue(s, Object.class));
        }

        static String write(Object v) throws IOException {
            return MAPPER.writeValueAsString(v);
        }

        private static Object convert(Object v) {
            if (v instanceof Map) {
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    out.put(string(e.getKey()), convert(e.getValue()));
                }
                return out;
            }
            if (v instanceof List) {
                JSONList out = new JSONList();
                for (Object el : (List<?>) v) {
                    out.add(convert(el));
                }
                return out;
            }
            return v;
        }
    }
}
