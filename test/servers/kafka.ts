/**
 * Not Kafka: a local server on 127.0.0.1 speaking the part of the Kafka protocol a producer
 * uses, written from the protocol specification (kafka.apache.org/protocol, "The Messages",
 * and the record batch format of "Message Format"), since no broker installs here from npm or
 * Debian. It answers ApiVersions (v0-2), Metadata (v1), InitProducerId (v0) and Produce (v3,
 * record batches of magic 2), and holds each request to the specification: the frame and
 * header, the batch's length and CRC32C (over attributes to the end), one producer id and epoch
 * it issued, and per partition the sequence numbers an idempotent producer must send (the next
 * expected one; an earlier batch again, the same base and last sequence, is a duplicate,
 * answered with its first offset and not written twice; anything else is
 * OUT_OF_ORDER_SEQUENCE_NUMBER). Compressed batches are refused
 * (only uncompressed ones are decoded here). What is wrong is answered with the protocol's
 * error code and recorded in `violations`. As a broker does, it refuses a record batch larger
 * than its `message.max.bytes` (1,048,588 by default) with MESSAGE_TOO_LARGE, writing nothing
 * of it: not a violation of the protocol, but kept in `tooLarge`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { CRC32C } from '@google-cloud/storage';

const api = { Produce: 0, Metadata: 3, ApiVersions: 18, InitProducerId: 22 } as const;
/** The versions offered: the non-flexible ones a producer needs (flexible versions use compact encodings not decoded here). */
const offered: [key: number, min: number, max: number][] = [
  [api.Produce, 3, 3],
  [api.Metadata, 1, 1],
  [api.ApiVersions, 0, 2],
  [api.InitProducerId, 0, 0],
];
const errors = {
  NONE: 0,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  MESSAGE_TOO_LARGE: 10,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  UNKNOWN_PRODUCER_ID: 59,
  INVALID_REQUIRED_ACKS: 21,
} as const;

export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
}

class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}
  int8 = () => this.buf.readInt8(this.take(1));
  int16 = () => this.buf.readInt16BE(this.take(2));
  int32 = () => this.buf.readInt32BE(this.take(4));
  uint32 = () => this.buf.readUInt32BE(this.take(4));
  int64 = () => this.buf.readBigInt64BE(this.take(8));
  string = (): string | null => {
    const n = this.int16();
    return n < 0 ? null : this.buf.toString('utf8', this.take(n), this.offset);
  };
  bytes = (): Buffer | null => {
    const n = this.int32();
    return n < 0 ? null : this.buf.subarray(this.take(n), this.offset);
  };
  array = <T>(item: () => T): T[] => Array.from({ length: Math.max(0, this.int32()) }, item);
  /** A zigzag varint (records use them for lengths and deltas). */
  varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf.readUInt8(this.take(1));
      value |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7;
      if (shift > 28) throw new Error('varint too long');
    }
    return (value >>> 1) ^ -(value & 1);
  };
  varlong = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const b = BigInt(this.buf.readUInt8(this.take(1)));
      value |= (b & 0x7fn) << shift;
      if (!(b & 0x80n)) break;
      shift += 7n;
    }
    return (value >> 1n) ^ -(value & 1n);
  };
  varBytes = (): Buffer | null => {
    const n = this.varint();
    return n < 0 ? null : this.buf.subarray(this.take(n), this.offset);
  };
  take(n: number): number {
    if (this.offset + n > this.buf.length) throw new Error(`read past the end (${this.offset} + ${n} > ${this.buf.length})`);
    const at = this.offset;
    this.offset += n;
    return at;
  }
  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

class Writer {
  private readonly parts: Buffer[] = [];
  private put(size: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(size);
    write(b);
    this.parts.push(b);
    return this;
  }
  int8 = (v: number) => this.put(1, (b) => b.writeInt8(v));
  int16 = (v: number) => this.put(2, (b) => b.writeInt16BE(v));
  int32 = (v: number) => this.put(4, (b) => b.writeInt32BE(v));
  int64 = (v: bigint) => this.put(8, (b) => b.writeBigInt64BE(v));
  string = (v: string | null): this => {
    if (v === null) return this.int16(-1);
    this.int16(Buffer.byteLength(v));
    return this.raw(Buffer.from(v));
  };
  array = <T>(items: readonly T[], item: (w: Writer, v: T) => void) => {
    this.int32(items.length);
    for (const v of items) item(this, v);
    return this;
  };
  raw = (b: Buffer): this => {
    this.parts.push(b);
    return this;
  };
  buffer = () => Buffer.concat(this.parts);
}

interface PartitionState {
  messages: KafkaMessage[];
  /** The next sequence number expected from each producer id. */
  nextSequence: Map<bigint, number>;
  /** First offset of each batch by producer, base sequence and record count, to answer a duplicate. */
  batches: Map<string, number>;
}

export class FakeKafka {
  /** What broke the specification, with the request it was in. */
  readonly violations: string[] = [];
  /** Connections closed for a request size over socket.request.max.bytes, and whether each began as a TLS handshake record (0x16 0x03). */
  readonly oversized: { tls: boolean }[] = [];
  readonly requests: { api: number; version: number; clientId: string | null }[] = [];
  /** The acks of every Produce request. */
  readonly acks: number[] = [];
  /** Each accepted batch's codec: none or gzip. */
  readonly codecs: string[] = [];
  /** Produce requests whose answer is never sent (the connection is dropped after the write). */
  loseAnswers = 0;
  /**
   * Answer a duplicate batch with DUPLICATE_SEQUENCE_NUMBER (46), as brokers of Kafka 0.11 did
   * (KIP-98: the producer takes it for success), rather than with its first offset, as later ones do.
   */
  duplicateError = false;
  /**
   * Message keys whose record batch is answered with this error code and not written, on every
   * try, as a partition without enough in-sync replicas is answered NOT_ENOUGH_REPLICAS (19)
   * under acks=all while the other partitions of the request are written.
   */
  readonly failingKeys = new Map<string, number>();
  /**
   * Topics whose Metadata answers give fewer partitions than they have, but the first `known`
   * requests that name them: partitions added to a topic, and brokers whose metadata lags (each
   * learns of them from the controller in its own time) answering after one that knows them all.
   */
  readonly lagging = new Map<string, { known: number; partitions: number }>();
  /** How many Metadata requests named each topic. */
  private readonly named = new Map<string, number>();
  /** Each record batch written (its topic, records and bytes), and the size of each refused as larger than `maxMessageBytes`. */
  readonly batches: { topic: string; records: number; bytes: number }[] = [];
  readonly tooLarge: number[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly partitions = new Map<string, PartitionState>();
  private producerIds = 1000n;
  private readonly producers = new Set<bigint>();
  port = 0;

  /** `maxMessageBytes`: the broker's message.max.bytes, the largest record batch it writes (its default). */
  constructor(
    readonly topics: Record<string, number>,
    readonly maxMessageBytes = 1_048_588,
  ) {
    for (const [topic, count] of Object.entries(topics))
      for (let p = 0; p < count; p++) this.partitions.set(`${topic}/${p}`, { messages: [], nextSequence: new Map(), batches: new Map() });
    this.server = createServer((socket) => this.connection(socket));
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Every message written, in offset order per partition. */
  messages(topic: string): KafkaMessage[] {
    return [...this.partitions.entries()].filter(([k]) => k.startsWith(`${topic}/`)).flatMap(([, p]) => p.messages);
  }

  /** The messages of one partition, in the order it wrote them. */
  partitionMessages(topic: string, partition: number): KafkaMessage[] {
    return this.partitions.get(`${topic}/${partition}`)?.messages ?? [];
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        // As a broker does (socket.request.max.bytes, 100 MiB by default): a larger size, such as a TLS
        // handshake's first bytes read as one, closes the connection at once.
        if (size < 0 || size > 104_857_600) {
          this.oversized.push({ tls: pending[0] === 0x16 && pending[1] === 0x03 });
          socket.destroy();
          return;
        }
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        const answer = this.request(frame);
        if (answer === 'lose') {
          socket.destroy();
          return;
        }
        if (answer) socket.write(Buffer.concat([new Writer().int32(answer.length).buffer(), answer]));
      }
    });
  }

  private violation(what: string): void {
    this.violations.push(what);
  }

  /** One request frame: header v1 (api key, version, correlation id, client id), then the body. */
  private request(frame: Buffer): Buffer | 'lose' | undefined {
    const r = new Reader(frame);
    const key = r.int16();
    const version = r.int16();
    const correlation = r.int32();
    const clientId = r.string();
    this.requests.push({ api: key, version, clientId });
    const header = new Writer().int32(correlation);
    const range = offered.find(([k]) => k === key);
    if (!range || version < range[1] || version > range[2]) {
      this.violation(`api ${key} v${version} was not offered by ApiVersions`);
      // ApiVersions answers an unsupported version with UNSUPPORTED_VERSION and its own range (v0 layout).
      if (key === api.ApiVersions)
        return header
          .int16(errors.UNSUPPORTED_VERSION)
          .array(offered, (w, [k, min, max]) => w.int16(k).int16(min).int16(max))
          .buffer();
      return undefined;
    }
    try {
      switch (key) {
        case api.ApiVersions: {
          header.int16(errors.NONE).array(offered, (w, [k, min, max]) => w.int16(k).int16(min).int16(max));
          if (version >= 1) header.int32(0);
          return header.buffer();
        }
        case api.Metadata:
          return this.metadata(r, header);
        case api.InitProducerId: {
          const transactionalId = r.string();
          r.int32();
          if (transactionalId !== null) this.violation('an idempotent producer has no transactional id');
          const id = this.producerIds++;
          this.producers.add(id);
          return header.int32(0).int16(errors.NONE).int64(id).int16(0).buffer();
        }
        case api.Produce:
          return this.produce(r, header);
      }
    } catch (e) {
      this.violation(`api ${key} v${version}: ${(e as Error).message}`);
    }
    return undefined;
  }

  private metadata(r: Reader, header: Writer): Buffer {
    // v1: a null array asks for every topic; named topics that do not exist get error 3.
    const count = r.int32();
    const asked = count < 0 ? Object.keys(this.topics) : Array.from({ length: count }, () => r.string() as string);
    header.array([0], (w, id) => w.int32(id).string('127.0.0.1').int32(this.port).string(null)).int32(0);
    header.array(asked, (w, topic) => {
      const lag = this.lagging.get(topic);
      const named = count >= 0 ? (this.named.get(topic) ?? 0) + 1 : 0;
      if (count >= 0) this.named.set(topic, named);
      const n = lag && !(named > 0 && named <= lag.known) ? lag.partitions : this.topics[topic];
      w.int16(n === undefined ? errors.UNKNOWN_TOPIC_OR_PARTITION : errors.NONE)
        .string(topic)
        .int8(0);
      w.array(
        Array.from({ length: n ?? 0 }, (_, p) => p),
        (pw, p) =>
          pw
            .int16(errors.NONE)
            .int32(p)
            .int32(0)
            .array([0], (x, v) => x.int32(v))
            .array([0], (x, v) => x.int32(v)),
      );
    });
    return header.buffer();
  }

  private produce(r: Reader, header: Writer): Buffer | 'lose' {
    const transactionalId = r.string();
    const acks = r.int16();
    r.int32();
    this.acks.push(acks);
    if (transactionalId !== null) this.violation('Produce from an idempotent producer has a null transactional id');
    const topics = r.array(() => ({ topic: r.string() as string, data: r.array(() => ({ partition: r.int32(), records: r.bytes() })) }));
    if (!r.done) this.violation('Produce request has bytes after its topics');
    const results = topics.map(({ topic, data }) => ({
      topic,
      partitions: data.map(({ partition, records }) => ({ partition, ...this.append(topic, partition, records, acks) })),
    }));
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      return 'lose';
    }
    header.array(results, (w, t) => w.string(t.topic).array(t.partitions, (pw, p) => pw.int32(p.partition).int16(p.error).int64(BigInt(p.offset)).int64(-1n)));
    return header.int32(0).buffer();
  }

  /** Checks and appends one record batch (magic 2): its error code and first offset. */
  private append(topic: string, partition: number, records: Buffer | null, acks: number): { error: number; offset: number } {
    const fail = (error: number, why: string) => {
      this.violation(`${topic}/${partition}: ${why}`);
      return { error, offset: -1 };
    };
    if (acks !== -1) return fail(errors.INVALID_REQUIRED_ACKS, `acks ${acks}: an idempotent producer must ask for acks from all in-sync replicas (-1)`);
    const state = this.partitions.get(`${topic}/${partition}`);
    if (!state) return fail(errors.UNKNOWN_TOPIC_OR_PARTITION, 'no such topic or partition');
    if (!records) return fail(errors.CORRUPT_MESSAGE, 'no record batch');
    const r = new Reader(records);
    r.int64();
    const batchLength = r.int32();
    if (batchLength !== records.length - 12) return fail(errors.CORRUPT_MESSAGE, `batchLength ${batchLength}, but ${records.length - 12} bytes follow it`);
    // The whole batch, its offset and length included, as the broker sizes it before anything else.
    if (records.length > this.maxMessageBytes) {
      this.tooLarge.push(records.length);
      return { error: errors.MESSAGE_TOO_LARGE, offset: -1 };
    }
    r.int32();
    const magic = r.int8();
    if (magic !== 2) return fail(errors.CORRUPT_MESSAGE, `magic ${magic}, not 2`);
    const crc = r.uint32();
    const checked = new CRC32C();
    checked.update(records.subarray(r.offset));
    if (checked.valueOf() >>> 0 !== crc) return fail(errors.CORRUPT_MESSAGE, `CRC32C ${crc} does not match the batch's ${checked.valueOf() >>> 0}`);
    const attributes = r.int16();
    // The codec (attributes bits 0-2): none, or gzip, whose compressed bytes are the records.
    const codec = attributes & 0x07;
    if (codec > 1) return fail(errors.CORRUPT_MESSAGE, `codec ${codec} (this server decodes uncompressed and gzip batches only)`);
    const lastOffsetDelta = r.int32();
    r.int64();
    r.int64();
    const producerId = r.int64();
    const epoch = r.int16();
    const baseSequence = r.int32();
    const count = r.int32();
    if (!this.producers.has(producerId) || epoch !== 0)
      return fail(errors.UNKNOWN_PRODUCER_ID, `producer id ${producerId} epoch ${epoch} was not issued by InitProducerId`);
    if (lastOffsetDelta !== count - 1) return fail(errors.CORRUPT_MESSAGE, `lastOffsetDelta ${lastOffsetDelta} for ${count} records`);
    // A duplicate is a batch with the base and last sequence of one already written (Kafka's
    // ProducerStateEntry.findDuplicateBatch); another batch at a sequence already taken is out of order.
    const earlier = state.batches.get(`${producerId}/${baseSequence}/${count}`);
    if (earlier !== undefined) return this.duplicateError ? { error: errors.DUPLICATE_SEQUENCE_NUMBER, offset: -1 } : { error: errors.NONE, offset: earlier };
    const expected = state.nextSequence.get(producerId) ?? 0;
    if (baseSequence !== expected) return fail(errors.OUT_OF_ORDER_SEQUENCE_NUMBER, `base sequence ${baseSequence}, expected ${expected}`);
    const first = state.messages.length;
    let body = r;
    if (codec === 1) {
      try {
        body = new Reader(gunzipSync(records.subarray(r.offset)));
      } catch (e) {
        return fail(errors.CORRUPT_MESSAGE, `a gzip batch that does not inflate: ${(e as Error).message}`);
      }
    }
    this.codecs.push(codec === 1 ? 'gzip' : 'none');
    // Decoded whole before any is written: a bad record leaves the partition as it was.
    const decoded: KafkaMessage[] = [];
    for (let i = 0; i < count; i++) {
      const length = body.varint();
      const start = body.offset;
      body.int8();
      body.varlong();
      const delta = body.varint();
      if (delta !== i) return fail(errors.CORRUPT_MESSAGE, `record ${i} has offset delta ${delta}`);
      const key = body.varBytes();
      const value = body.varBytes();
      const headers = body.varint();
      for (let h = 0; h < headers; h++) {
        body.varBytes();
        body.varBytes();
      }
      if (body.offset - start !== length) return fail(errors.CORRUPT_MESSAGE, `record ${i} is ${body.offset - start} bytes, its length says ${length}`);
      decoded.push({ topic, partition, offset: first + i, key: key?.toString('utf8') ?? null, value: value?.toString('utf8') ?? null });
    }
    if (!body.done) return fail(errors.CORRUPT_MESSAGE, 'bytes after the last record');
    for (const m of decoded) {
      const error = m.key === null ? undefined : this.failingKeys.get(m.key);
      if (error !== undefined) return { error, offset: -1 };
    }
    state.messages.push(...decoded);
    this.batches.push({ topic, records: count, bytes: records.length });
    state.nextSequence.set(producerId, baseSequence + count);
    state.batches.set(`${producerId}/${baseSequence}/${count}`, first);
    return { error: errors.NONE, offset: first };
  }
}
