// The schema's patterns in the regular expression engine API Gateway's
// validator runs them in: java.util.regex (a backtracking engine, which
// recurses once per repetition of a group with alternatives, so a long text
// can overflow its stack). The schema test checks each pattern's verdicts and
// that none overflows; the schema_patterns benchmark times them.
//
// Run with Java's source launcher:
//   java -cp /usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar \
//     infra/emulator/JavaPatterns.java <repeats> < cases
// One case a line: a JSON array [pattern, text] (JSON, so that a lone
// surrogate can be written). One answer a line: "true", "false" or
// "overflow" (StackOverflowError), a tab, and the fastest of <repeats> runs
// of Matcher.find() in nanoseconds (find, as JSON Schema's pattern is not
// anchored).

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;

public class JavaPatterns {
    public static void main(String[] args) throws Exception {
        int repeats = Integer.parseInt(args[0]);
        ObjectMapper json = new ObjectMapper();
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null) {
            String[] pair = json.readValue(line, String[].class);
            Pattern pattern = Pattern.compile(pair[0]);
            String verdict = "";
            long fastest = Long.MAX_VALUE;
            for (int run = 0; run < repeats; run++) {
                long start = System.nanoTime();
                try {
                    verdict = Boolean.toString(pattern.matcher(pair[1]).find());
                } catch (StackOverflowError overflow) {
                    verdict = "overflow";
                }
                fastest = Math.min(fastest, System.nanoTime() - start);
            }
            System.out.println(verdict + "\t" + fastest);
        }
    }
}
