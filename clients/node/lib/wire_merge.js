// Protobuf wire-format merge of repeated occurrences of a singular message field, so that
// protobufjs (which keeps only the last occurrence) decodes what protobuf specifies: "for
// embedded message fields, the parser merges multiple instances of the same field".
//
// sluiced relies on that rule: a stored event's bytes are sent as they are, followed by a second
// `source` (SourceInfo) that the parser must merge into the first. Without this step the
// database and table of every event would be lost.
//
// mergeDuplicates(bytes, typeName, schema) returns bytes in which every singular message field
// occurs at most once (its occurrences concatenated, which is a merge, at the place of the last
// one), recursively through nested and repeated messages. Bytes with nothing to merge come back
// as they are. Pure; throws RangeError on truncated or malformed bytes (the caller then leaves
// them to protobufjs, which reports the error).
//
// buildSchema(packageDefinition) -> schema: for each message type, its message-typed fields.
'use strict';

function readVarint(buf, pos) {
  let value = 0;
  for (let shift = 0; shift < 64; shift += 7) {
    if (pos >= buf.length) throw new RangeError('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
  }
  throw new RangeError('varint longer than 10 bytes');
}

function writeVarint(value, out) {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

// The top-level fields of one message: {number, start, payload: [start, end] | null, end}.
function scanFields(buf) {
  const fields = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    let tag;
    [tag, pos] = readVarint(buf, pos);
    const number = Math.floor(tag / 8);
    let payload = null;
    switch (tag % 8) {
      case 0:
        [, pos] = readVarint(buf, pos);
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        let length;
        [length, pos] = readVarint(buf, pos);
        payload = [pos, pos + length];
        pos += length;
        break;
      }
      default:
        throw new RangeError(`wire type ${tag % 8} of field ${number} is not supported`);
    }
    if (pos > buf.length) throw new RangeError(`field ${number} runs past the end`);
    fields.push({number, start, payload, end: pos});
  }
  return fields;
}

function lengthDelimited(number, payload) {
  const head = [];
  writeVarint(number * 8 + 2, head);
  writeVarint(payload.length, head);
  return Buffer.concat([Buffer.from(head), payload]);
}

function mergeDuplicates(buf, typeName, schema) {
  const messageFields = schema.get(typeName);
  if (!messageFields || messageFields.size === 0) return buf;
  const fields = scanFields(buf);
  const lastIndex = new Map();
  const count = new Map();
  fields.forEach((f, i) => {
    const info = messageFields.get(f.number);
    if (info && !info.repeated && f.payload) {
      lastIndex.set(f.number, i);
      count.set(f.number, (count.get(f.number) ?? 0) + 1);
    }
  });
  const out = [];
  let changed = false;
  fields.forEach((f, i) => {
    const info = messageFields.get(f.number);
    const whole = buf.subarray(f.start, f.end);
    if (!info || !f.payload) {
      out.push(whole);
      return;
    }
    if (info.repeated || count.get(f.number) === 1) {
      const payload = buf.subarray(f.payload[0], f.payload[1]);
      const merged = mergeDuplicates(payload, info.type, schema);
      if (merged === payload) {
        out.push(whole);
      } else {
        out.push(lengthDelimited(f.number, merged));
        changed = true;
      }
      return;
    }
    changed = true;
    if (lastIndex.get(f.number) !== i) return;  // merged into the last occurrence
    const parts = fields.filter((g) => g.number === f.number && g.payload)
        .map((g) => buf.subarray(g.payload[0], g.payload[1]));
    out.push(lengthDelimited(f.number, mergeDuplicates(Buffer.concat(parts), info.type, schema)));
  });
  return changed ? Buffer.concat(out) : buf;
}

// Resolves a descriptor's (possibly relative) type name the way protoc does: innermost scope
// first.
function resolveType(name, scope, known) {
  if (name.startsWith('.')) return name.slice(1);
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), name].join('.');
    if (known.has(candidate)) return candidate;
  }
  return name;
}

function buildSchema(definition) {
  const descriptors = new Map();
  const add = (fullName, descriptor) => {
    descriptors.set(fullName, descriptor);
    for (const nested of descriptor.nestedType ?? []) add(`${fullName}.${nested.name}`, nested);
  };
  for (const [name, entry] of Object.entries(definition)) {
    if (entry?.format === 'Protocol Buffer 3 DescriptorProto') add(name, entry.type);
  }
  const schema = new Map();
  for (const [fullName, descriptor] of descriptors) {
    const fields = new Map();
    for (const f of descriptor.field ?? []) {
      if (f.type !== 'TYPE_MESSAGE') continue;
      fields.set(f.number, {
        repeated: f.label === 'LABEL_REPEATED',
        type: resolveType(f.typeName, fullName, descriptors),
      });
    }
    schema.set(fullName, fields);
  }
  return schema;
}

module.exports = {mergeDuplicates, buildSchema};
