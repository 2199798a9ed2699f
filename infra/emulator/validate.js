// API Gateway's request validator, played by an independent implementation:
// Ajv (Debian's node-ajv 6, JSON Schema draft 4, ECMAScript regular
// expressions, as API Gateway documents its validator). Reads
// {"schema": <path>, "bodies": [<raw body text>, ...]} on standard input and
// writes one verdict a body: {"json": false} when the body is not JSON,
// else {"json": true, "valid": bool, "errors": [<message>, ...]}.
"use strict";
const fs = require("fs");
const Ajv = require("ajv");

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const ajv = new Ajv({ schemaId: "id", allErrors: true });
ajv.addMetaSchema(require("ajv/lib/refs/json-schema-draft-04.json"));
const validate = ajv.compile(JSON.parse(fs.readFileSync(input.schema, "utf8")));

const verdicts = input.bodies.map((body) => {
  let value;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { json: false };
  }
  const valid = validate(value);
  return {
    json: true,
    valid,
    errors: valid ? [] : validate.errors.map((e) => `${e.dataPath} ${e.message}`),
  };
});
process.stdout.write(JSON.stringify(verdicts));
