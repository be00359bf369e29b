#!/usr/bin/env node
// Compares the interfaces of src/api/types.ts with the schemas of the gateway's
// OpenAPI document: same field names, and optional exactly where the schema
// does not require a field. Usage:
//   node scripts/check-openapi-types.mjs openapi.json
// (the document from GET /openapi.json, or gateway.openapi.build_document).
// Exits 1 and names each difference when they disagree.

import { readFileSync } from "node:fs";

const [documentPath] = process.argv.slice(2);
if (!documentPath) {
  console.error("usage: node scripts/check-openapi-types.mjs <openapi.json>");
  process.exit(2);
}
const schemas = JSON.parse(readFileSync(documentPath, "utf8")).components.schemas;
const source = readFileSync(new URL("../src/api/types.ts", import.meta.url), "utf8");

// Interfaces whose schema has another name.
const schemaNames = { ErrorBody: "Error" };

const interfaces = new Map();
for (const match of source.matchAll(/export interface (\w+)(?: extends (\w+))? \{(.*?)\n\}/gs)) {
  const [, name, parent, body] = match;
  const fields = [...body.matchAll(/^ {2}(\w+)(\?)?:/gm)].map(([, field, optional]) => ({
    field,
    optional: optional === "?",
  }));
  interfaces.set(name, { parent, fields });
}

function fieldsOf(name) {
  const entry = interfaces.get(name);
  if (!entry) return [];
  return [...(entry.parent ? fieldsOf(entry.parent) : []), ...entry.fields];
}

let problems = 0;
for (const name of interfaces.keys()) {
  const schemaName = schemaNames[name] ?? name;
  const schema = schemas[schemaName];
  if (!schema) {
    console.log(`${name}: no schema ${schemaName} in the document`);
    problems++;
    continue;
  }
  const properties = Object.keys(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const mine = fieldsOf(name);
  for (const property of properties) {
    const field = mine.find((f) => f.field === property);
    if (!field) {
      console.log(`${name}: lacks ${property}`);
      problems++;
    } else if (field.optional === required.has(property)) {
      console.log(`${name}.${property}: ${required.has(property) ? "required" : "optional"} in the schema`);
      problems++;
    }
  }
  for (const { field } of mine) {
    if (!properties.includes(field)) {
      console.log(`${name}: ${field} is not in the schema`);
      problems++;
    }
  }
}
console.log(problems ? `${problems} differences` : `${interfaces.size} interfaces match their schemas`);
process.exit(problems ? 1 : 0);
