// Keeps a local copy of one table in a JSON file, equal to the source across restarts.
// usage: node mirror-table.js HOST:PORT SOURCE DB.TABLE FILE   (stop it with Ctrl-C or kill)
'use strict';
const fs = require('node:fs');
const {SluiceClient} = require('..');  // require('@sluice/client') outside this repo

const [address, source, table, file] = process.argv.slice(2);
const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) :
  {offset: '0', rows: {}};
const client = new SluiceClient(address);
const consumer = client.consume({subscription: `mirror.${table}`, source, createIfMissing: true,
  tables: [table], ops: ['r', 'c', 'u', 'd', 't']});
process.on('SIGINT', () => consumer.close()).on('SIGTERM', () => consumer.close());

(async () => {
  for await (const batch of consumer.batches()) {
    for (const event of batch.events) {
      if (BigInt(event.offset) <= BigInt(state.offset)) continue;  // redelivered, applied
      if (event.op === 't') state.rows = {};
      else if (event.after) state.rows[JSON.stringify(event.key)] = event.after;
      else delete state.rows[JSON.stringify(event.key)];
    }
    state.offset = (BigInt(batch.nextOffset) - 1n).toString();
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(state), {flush: true});  // fsync'ed, then
    fs.renameSync(`${file}.tmp`, file);  // renamed: the file is never half written
    consumer.ack(state.offset);  // only after the copy is safe on disk
  }
  await client.close();
})();
