// Compiled (not run) by types.test.js: the public API used the way README.md shows it.
import {SluiceClient, SluiceError, ChangeEvent, Batch, Offset} from '..';

async function main(): Promise<void> {
  const client = new SluiceClient('127.0.0.1:7070', {tokenFile: '/etc/sluice/tokens'});
  const status = await client.status();
  const last: Offset = status.sources[0].lastOffset;

  const subscription = client.subscribe({source: 'shop', from: 'earliest',
    tables: ['shop.*'], ops: ['c', 'u', 'd'], onReconnect: ({error, attempt}) =>
      console.error(`reconnect ${attempt}: ${error.codeName}`)});
  for await (const event of subscription) {
    const e: ChangeEvent = event;
    if (e.op === 'u' && e.after !== null) console.log(e.key, e.after['total'], e.source.table);
    if (BigInt(e.offset) >= BigInt(last)) break;
  }

  const copy = new Map<unknown, unknown>();
  for await (const batch of client.subscribe({source: 'shop', from: 'snapshot'}).batches()) {
    if (batch.bootstrapBegins) copy.clear();
    const n: Offset | null = batch.snapshotOffset;
    if (n !== null && batch.snapshotDone) console.log(`bootstrap done at ${n}`);
    for (const e of batch.events) {
      if (e.snapshotOffset !== undefined && e.snapshotDone === true) console.log(e.snapshotOffset);
      if (e.bootstrapBegins) copy.clear();
      copy.set(e.key['id'], e.after);
    }
  }

  const consumer = client.consume({subscription: 'lake-writer', source: 'shop',
    createIfMissing: true, from: 1n, maxUnackedEvents: 1000});
  for await (const batch of consumer.batches()) {
    const b: Batch = batch;
    consumer.ack(BigInt(b.nextOffset) - 1n);
  }
  const committed: string = await consumer.flush();
  await client.ack('lake-writer', committed);
  const subscriptions = await client.listSubscriptions('shop');
  console.log(subscriptions.map((s) => `${s.name} ${s.committedOffset} ${s.lagEvents}`));
  await client.resetSubscription('lake-writer', new Date('2026-01-02T03:04:05Z'));
  try {
    await client.deleteSubscription('lake-writer');
  } catch (err) {
    if (err instanceof SluiceError && err.codeName === 'NOT_FOUND') return;
    throw err;
  }
  await client.close();
}

main();
