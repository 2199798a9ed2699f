// API Gateway's request validator, played by an independent implementation:
// Ajv (Debian's node-ajv 6, JSON Schema draft 4). Reads
// {"schema": <path>, "values": [<JSON text, or null>, ...]} on standard
// input: each body as API Gateway's validator reads it (ApiGatewayJson.java;
// null when it reads no JSON). Writes one verdict a body: {"json": false}
// when the body is not JSON, else {"json": true, "valid": bool, "errors":
// [<message>, ...]}.
//
// API Gateway's validator runs in Java, whose regular expressions match code
// points (a surrogate pair is one character, a lone surrogate is its own),
// as ECMAScript's do with the "u" flag; Ajv 6 compiles patterns without it,
// so `pattern` is defined here with it.
"use strict";
const fs = require("fs");
const Ajv = require("ajv");

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const ajv = new Ajv({ schemaId: "id", allErrors: true });
ajv.addMetaSchema(require("ajv/lib/refs/json-schema-draft-04.json"));
ajv.removeKeyword("pattern");
ajv.addKeyword("pattern", {
  type: "string",
  compile(pattern) {
    const expression = new RegExp(pattern, "u");
    return (text) => expression.test(text);
  },
});
const validate = ajv.compile(JSON.parse(fs.readFileSync(input.schema, "utf8")));

const verdicts = input.values.map((text) => {
  if (text === null) {
    return { json: false };
  }
  const valid = validate(JSON.parse(text));
  return {
    json: true,
    valid,
    errors: valid ? [] : validate.errors.map((e) => `${e.dataPath} ${e.message}`),
  };
});
process.stdout.write(JSON.stringify(verdicts));
