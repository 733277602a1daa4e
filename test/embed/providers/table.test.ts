import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import h5wasm from "h5wasm/node";
import { parquetWriteBuffer } from "hyparquet-writer";
import { buildVocabulary } from "../../../src/concepts/vocabulary.js";
import { readFindingsTable } from "../../../src/data/adapters/findings-table.js";
import { encodeNpy } from "../../../src/embed/npy.js";
import { createTableProvider } from "../../../src/embed/providers/table.js";
import type { EmbeddingProvider } from "../../../src/embed/types.js";
import { InputError } from "../../../src/util/errors.js";
import { sharedData } from "../../../src/util/paths.js";
import { influenzaTokens, tok } from "../influenza-tokens.js";

const dir = join("test-output", "embed-table");
mkdirSync(dir, { recursive: true });
const h5 = (name: string) => sharedData("influenza-embeddings", name);

// Reference values read independently with h5py:
// /usr/bin/python3 -c "import h5py; f=h5py.File('concept_pair_bert.h5','r');
//   print(len(f.keys()), f['C0013404 Not dyspnea'].shape, f['C0013404 Not dyspnea'][0,[0,1,767]],
//   f['C0013404 dyspnea'][0,[0,1,767]], f['agegroup_ls5 ages less then 5, might be infant, baby, or very young kids'][0,[0,1,767]])"
// and for the temperature level key starting with 'C0424781_P', elements [0, 5].
test("concept_pair_bert.h5 loads as 180 x 768 with the values h5py reads", async () => {
  const p = await createTableProvider({ file: h5("concept_pair_bert.h5") });
  assert.equal(p.table.keys.length, 180);
  assert.equal(p.table.dim, 768);
  assert.equal(p.info.dimension, 768);
  assert.match(p.info.revision ?? "", /^sha256:[0-9a-f]{64}$/);
  const tokens = [
    tok("C0013404", "Not dyspnea", { kind: "absent" }),
    tok("C0013404", "dyspnea"),
    tok("agegroup", "ages less then 5, might be infant, baby, or very young kids", {
      kind: "level",
      level: "ls5",
    }),
    tok("C0424781", "high grade temperature (> = 104.0F / 40C)", { kind: "level", level: "P" }),
  ];
  const m = await p.embed(tokens);
  assert.equal(m.rows, 4);
  const at = (r: number, c: number) => m.data[r * 768 + c];
  assert.equal(at(0, 0), Math.fround(-0.5876996517181396));
  assert.equal(at(0, 1), Math.fround(-0.07178328931331635));
  assert.equal(at(0, 767), Math.fround(0.3703460395336151));
  assert.equal(at(1, 0), Math.fround(-0.5546619296073914));
  assert.equal(at(1, 1), Math.fround(0.3698100447654724));
  assert.equal(at(1, 767), Math.fround(0.04644235968589783));
  assert.equal(at(2, 0), Math.fround(-0.7136521339416504));
  assert.equal(at(2, 767), Math.fround(0.4647887647151947));
  assert.equal(at(3, 0), Math.fround(-0.6106745004653931));
  assert.equal(at(3, 5), Math.fround(-0.35245853662490845));
});

test("all three seed-paper files resolve every influenza-dtl token by code, value and negation", async () => {
  const tokens = influenzaTokens();
  assert.equal(tokens.length, 61 * 2 + 4 + 3);
  const expected: Record<string, [number, number]> = {
    // [dimension, element 0 of "C0013404 Not dyspnea"] (h5py, as above)
    "concept_pair_bert.h5": [768, -0.5876996517181396],
    "concept_pair_biobert.h5": [768, 0.37461480498313904],
    "concept_pair_openai_small.h5": [1536, 0.010265731252729893],
  };
  for (const [file, [dim, v0]] of Object.entries(expected)) {
    const p = await createTableProvider({ file: h5(file) });
    assert.equal(p.table.keys.length, 180, file);
    const res = p.resolve(tokens);
    assert.ok(
      res.rows.every((r) => r >= 0),
      `${file}: unresolved ${tokens.filter((_, i) => res.rows[i] < 0).map((t) => t.key)}`,
    );
    // Distinct tokens get distinct rows, and each row's key has the token's code and negation.
    assert.equal(new Set(res.rows).size, tokens.length);
    tokens.forEach((t, i) => {
      const key = p.table.keys[res.rows[i]];
      const prefix = t.value.kind === "level" ? `${t.code}_${t.value.level} ` : `${t.code} `;
      assert.ok(key.startsWith(prefix), `${t.key} -> ${key}`);
      assert.equal(/^\S+ Not /.test(key), t.value.kind === "absent", `${t.key} -> ${key}`);
    });
    // Catalog text "lab testing ordered (influenza w/other ...)" differs from the HDF5 key's "w other":
    // it still resolves, by code.
    const i = tokens.findIndex((t) => t.code === "C1978700" && t.value.kind === "present");
    assert.equal(res.how[i], "code");
    const m = await p.embed(tokens);
    assert.equal(m.dim, dim);
    const dys = tokens.findIndex((t) => t.key === "C0013404|absent");
    assert.equal(m.data[dys * dim], Math.fround(v0));
  }
});

test("tokens without a vector are an error listing them, or go to the fallback", async () => {
  const file = h5("concept_pair_bert.h5");
  const p = await createTableProvider({ file });
  const unknown = [
    tok("C0013404", "dyspnea"),
    tok("X1", "levitation"),
    tok("X2", "Not flying", { kind: "absent" }),
  ];
  await assert.rejects(p.embed(unknown), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /no vector for 2 of 3 tokens/);
    assert.match(e.message, /"levitation" \(X1\|present\)/);
    assert.match(e.message, /"Not flying" \(X2\|absent\)/);
    return true;
  });
  const constant: EmbeddingProvider = {
    info: { provider: "test-constant", dimension: 768 },
    async embed(tokens) {
      return { rows: tokens.length, dim: 768, data: new Float32Array(tokens.length * 768).fill(0.5) };
    },
  };
  const withFallback = await createTableProvider({ file, fallback: constant });
  assert.notEqual(withFallback.info.params?.fallback, undefined);
  const m = await withFallback.embed(unknown);
  assert.equal(m.data[0], Math.fround(-0.5546619296073914));
  assert.equal(m.data[768], 0.5);
  assert.equal(m.data[2 * 768 + 767], 0.5);
  const wrongDim: EmbeddingProvider = {
    info: { provider: "test-small" },
    async embed(tokens) {
      return { rows: tokens.length, dim: 3, data: new Float32Array(tokens.length * 3).fill(1) };
    },
  };
  const bad = await createTableProvider({ file, fallback: wrongDim });
  await assert.rejects(bad.embed(unknown), /dimension 3, the table has 768/);
});

const keys = ["C0013404 dyspnea", "C0013404 Not dyspnea", "agegroup_ls5 ages less then 5, might be infant"];
const vecs = [
  [1, 2, 3],
  [-1, 0.5, 0],
  [0, 0, 4],
];

async function checkSmall(file: string, extra: Record<string, string> = {}): Promise<void> {
  const p = await createTableProvider({ file, ...extra });
  // (HDF5 lists datasets in name order)
  assert.deepEqual([...p.table.keys].sort(), [...keys].sort());
  const m = await p.embed([
    tok("agegroup", "under five", { kind: "level", level: "ls5" }),
    tok("C0013404", "Not shortness of breath", { kind: "absent" }),
    tok("C0013404", "dyspnea"),
  ]);
  assert.deepEqual(Array.from(m.data), [0, 0, 4, -1, 0.5, 0, 1, 2, 3]);
}

test("NPY + index, CSV (wide and vector column), JSON and Parquet tables give the same vectors", async () => {
  const flat = new Float32Array(vecs.flat());
  writeFileSync(join(dir, "small.npy"), encodeNpy([3, 3], flat));
  writeFileSync(join(dir, "small.keys.txt"), `${keys.join("\n")}\n`);
  await checkSmall(join(dir, "small.npy"));

  const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
  writeFileSync(
    join(dir, "wide.csv"),
    `key,d0,d1,d2\n${keys.map((k, i) => `${q(k)},${vecs[i].join(",")}`).join("\n")}\n`,
  );
  await checkSmall(join(dir, "wide.csv"));
  writeFileSync(
    join(dir, "list.csv"),
    `key,vector\r\n${keys.map((k, i) => `${q(k)},"[${vecs[i].join(", ")}]"`).join("\r\n")}`,
  );
  await checkSmall(join(dir, "list.csv"));

  writeFileSync(join(dir, "map.json"), JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, vecs[i]]))));
  await checkSmall(join(dir, "map.json"));
  writeFileSync(join(dir, "list.json"), JSON.stringify(keys.map((k, i) => ({ key: k, vector: vecs[i] }))));
  await checkSmall(join(dir, "list.json"));

  const buf = parquetWriteBuffer({
    columnData: [
      { name: "key", data: keys, type: "STRING" },
      ...[0, 1, 2].map((d) => ({ name: `d${d}`, data: vecs.map((v) => v[d]), type: "DOUBLE" as const })),
    ],
  });
  writeFileSync(join(dir, "wide.parquet"), new Uint8Array(buf));
  await checkSmall(join(dir, "wide.parquet"));
  // A list<float> column (as pandas/pyarrow write embeddings), schema given explicitly.
  const listBuf = parquetWriteBuffer({
    columnData: [
      { name: "key", data: keys },
      { name: "vector", data: vecs },
    ],
    schema: [
      { name: "root", num_children: 2 },
      { name: "key", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
      { name: "vector", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      { name: "element", type: "FLOAT", repetition_type: "REQUIRED" },
    ],
  });
  writeFileSync(join(dir, "list.parquet"), new Uint8Array(listBuf));
  await checkSmall(join(dir, "list.parquet"));
});

test("HDF5: a matrix + keys layout, datasets in groups, and bad values", async () => {
  await h5wasm.ready;
  const write = (name: string, fill: (f: InstanceType<typeof h5wasm.File>) => void) => {
    const f = new h5wasm.File(join(dir, name), "w");
    fill(f);
    f.close();
    return join(dir, name);
  };
  const matrix = write("matrix.h5", (f) => {
    f.create_dataset({ name: "embeddings", data: new Float32Array(vecs.flat()), shape: [3, 3] });
    f.create_dataset({ name: "keys", data: keys });
  });
  await checkSmall(matrix);
  const grouped = write("grouped.h5", (f) => {
    const g = f.create_group("vectors");
    keys.forEach((k, i) => {
      g.create_dataset({ name: k, data: new Float32Array(vecs[i]), shape: [1, 3] });
    });
  });
  await checkSmall(grouped);
  const nan = write("nan.h5", (f) => {
    f.create_dataset({ name: "C1 fever", data: new Float32Array([1, Number.NaN]), shape: [1, 2] });
  });
  await assert.rejects(createTableProvider({ file: nan }), /"C1 fever" has a non-finite value \(NaN\)/);
  const mixed = write("mixed.h5", (f) => {
    f.create_dataset({ name: "C1 fever", data: new Float32Array([1, 2]), shape: [1, 2] });
    f.create_dataset({ name: "C2 cough", data: new Float32Array([1, 2, 3]), shape: [1, 3] });
  });
  await assert.rejects(createTableProvider({ file: mixed }), /dimension mismatch: "C2 cough" has 3 values/);
});

test("text-keyed tables resolve by text", async () => {
  writeFileSync(
    join(dir, "texts.json"),
    JSON.stringify({ "chest pain": [1, 0], "chest tightness": [0, 1], "Not chest pain": [1, 1] }),
  );
  const p = await createTableProvider({ file: join(dir, "texts.json") });
  const tokens = [
    tok("L1", "Chest  pain"),
    tok("L1", "Not chest pain", { kind: "absent" }),
    tok("L2", "chest tightness"),
  ];
  const res = p.resolve(tokens);
  assert.deepEqual(Array.from(res.rows), [0, 2, 1]);
  assert.deepEqual(res.how, ["text", "text", "text"]);
  assert.deepEqual(Array.from(p.resolve([tok("L3", "pain")]).rows), [-1]);
});

test("a token with another code but the same text finds the seed paper's vector by text", async () => {
  const p = await createTableProvider({ file: h5("concept_pair_bert.h5") });
  const res = p.resolve([
    tok("LOC-7", "Dyspnea"),
    tok("LOC-7", "not dyspnea", { kind: "absent" }),
    tok("LOC-8", "dyspnoea"),
  ]);
  assert.deepEqual(
    Array.from(res.rows).map((r) => (r < 0 ? null : p.table.keys[r])),
    ["C0013404 dyspnea", "C0013404 Not dyspnea", null],
  );
});

test("bad tables are clear input errors", async () => {
  const cases: [string, string, RegExp][] = [
    [
      "dup.json",
      JSON.stringify([
        { key: "a b", vector: [1] },
        { key: "a b", vector: [2] },
      ]),
      /duplicate key "a b"/,
    ],
    [
      "dim.json",
      JSON.stringify({ "a x": [1, 2], "b y": [1, 2, 3] }),
      /dimension mismatch: "b y" has 3 values/,
    ],
    ["zero.json", JSON.stringify({ "a x": [1, 2], "b y": [0, 0] }), /"b y" is all zero/],
    ["nan.csv", "key,d0,d1\na x,1,2\nb y,nan,1\n", /non-finite value \(NaN\)/],
    ["inf.csv", "key,d0,d1\na x,1,Infinity\n", /non-finite value \(Infinity\)/],
    ["text.csv", "key,d0,d1\na x,1,two\n", /row 2, field "d1": "two" is not a number/],
    ["ragged.csv", "key,d0,d1\na x,1\n", /row 2: has 2 fields, header has 3/],
    ["broken.json", "{", /invalid JSON/],
  ];
  for (const [name, content, re] of cases) {
    writeFileSync(join(dir, name), content);
    await assert.rejects(createTableProvider({ file: join(dir, name) }), (e: unknown) => {
      assert.ok(e instanceof InputError, name);
      assert.match(e.message, re, name);
      assert.ok(e.message.includes(name), name);
      return true;
    });
  }
  writeFileSync(join(dir, "rows.npy"), encodeNpy([2, 2], new Float32Array([1, 2, 3, 4])));
  writeFileSync(join(dir, "rows.keys.txt"), "a x\nb y\nc z\n");
  await assert.rejects(
    createTableProvider({ file: join(dir, "rows.npy") }),
    /index has 3 keys but rows.npy has 2 rows/,
  );
  writeFileSync(join(dir, "fake.h5"), "not hdf5");
  await assert.rejects(createTableProvider({ file: join(dir, "fake.h5") }), InputError);
  await assert.rejects(createTableProvider({ file: join(dir, "absent.h5") }), /embedding file not found/);
});

test("the data adapter's influenza vocabulary resolves fully against all three files", async () => {
  const ds = await readFindingsTable({
    file: sharedData("influenza-dtl", "target_train", "findings_final_0814_seed-53154026_size50.csv"),
    catalog: sharedData("influenza-embeddings", "concept_pair.txt"),
  });
  const { vocabulary } = buildVocabulary(ds);
  assert.ok(vocabulary.tokens.length > 100);
  for (const f of ["concept_pair_bert.h5", "concept_pair_biobert.h5", "concept_pair_openai_small.h5"]) {
    const p = await createTableProvider({ file: h5(f) });
    const m = await p.embed(vocabulary.tokens);
    assert.equal(m.rows, vocabulary.tokens.length, f);
  }
});
