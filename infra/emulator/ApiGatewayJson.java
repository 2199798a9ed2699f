// How API Gateway's request validator reads a body, played by Jackson
// (Debian's libjackson2-databind-java) with its default settings: the first
// JSON value counts and anything after it is ignored, a repeated key keeps its
// last value, and a number written with a fraction or an exponent (2.0, 1e2)
// is a floating-point number, never an integer. validate.js then checks what
// this read against the schema.
//
// Run with Java's source launcher:
//   java -cp /usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar \
//     infra/emulator/ApiGatewayJson.java < bodies
// One body a line, base64 (UTF-8). One answer a line: "-" when Jackson reads
// no JSON value, else the value as JSON (non-ASCII escaped, so lone
// surrogates survive). Ajv reads 2.0 as the integer 2, so a floating-point
// number with a whole value is written with one half added: the same range,
// no longer an integer, as it is to API Gateway's validator.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

public class ApiGatewayJson {
    private static JsonNode withoutWholeFloats(JsonNode node) {
        if (node.isFloatingPointNumber()) {
            double value = node.doubleValue();
            boolean whole = value == Math.rint(value) && Math.abs(value) < 0x1p52;
            return whole ? DoubleNode.valueOf(value + 0.5) : node;
        }
        if (node instanceof ObjectNode) {
            ObjectNode object = (ObjectNode) node;
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                field.setValue(withoutWholeFloats(field.getValue()));
            }
        } else if (node instanceof ArrayNode) {
            ArrayNode array = (ArrayNode) node;
            for (int i = 0; i < array.size(); i++) {
                array.set(i, withoutWholeFloats(array.get(i)));
            }
        }
        return node;
    }

    public static void main(String[] args) throws Exception {
        ObjectMapper reader = new ObjectMapper();
        ObjectMapper writer = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null) {
            String body = new String(Base64.getDecoder().decode(line), StandardCharsets.UTF_8);
            String answer;
            try {
                JsonNode value = reader.readTree(body);
                answer = value == null || value.isMissingNode()
                    ? "-"
                    : writer.writeValueAsString(withoutWholeFloats(value));
            } catch (Exception notJson) {
                answer = "-";
            }
            System.out.println(answer);
        }
    }
}
