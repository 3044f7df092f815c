// Open a workbook with one npm reader and print, as JSON, what that reader sees of it.
// Usage: node tests/node/read.js exceljs|sheetjs|xlsx-populate FILE
// Driven by tests/test_readers.py; a part a reader does not model is printed as null.
"use strict";
const fs = require("fs");

function columnNumber(letters) {
  return [...letters].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0);
}

function cellsOf(sqref) {
  // "D5:O5 D7" -> ["D5", ..., "O5", "D7"]
  const cells = [];
  for (const area of sqref.trim().split(/\s+/)) {
    const [first, last] = area.replace(/\$/g, "").split(":");
    const [, c1, r1] = first.match(/^([A-Z]+)(\d+)$/);
    const [, c2, r2] = (last || first).match(/^([A-Z]+)(\d+)$/);
    for (let r = +r1; r <= +r2; r++) {
      for (let c = columnNumber(c1); c <= columnNumber(c2); c++) {
        let letters = "";
        for (let n = c; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
        cells.push(letters + r);
      }
    }
  }
  return cells;
}

async function exceljs(file) {
  const ExcelJS = require("exceljs");
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const seen = { sheets: [], names: {}, formulas: {}, conditional: {}, validations: {}, charts: null };
  for (const { name, ranges } of wb.definedNames.model) seen.names[name] = ranges.join(",");
  for (const ws of wb.worksheets) {
    seen.sheets.push(ws.name);
    ws.eachRow({ includeEmpty: false }, (row) =>
      row.eachCell({ includeEmpty: false }, (cell) => {
        if (cell.formula) seen.formulas[`${ws.name}!${cell.address}`] = cell.formula;
      }),
    );
    seen.conditional[ws.name] = ws.conditionalFormattings.reduce((n, cf) => n + cf.rules.length, 0);
    seen.validations[ws.name] = Object.keys(ws.dataValidations.model).flatMap(cellsOf);
  }
  return seen;
}

async function sheetjs(file) {
  const XLSX = require("xlsx");
  const wb = XLSX.read(fs.readFileSync(file), { cellFormula: true, sheetStubs: true, bookFiles: true });
  const seen = { sheets: wb.SheetNames, names: {}, local: [], formulas: {}, values: {}, conditional: null, validations: null };
  for (const { Name, Ref, Sheet } of wb.Workbook.Names) {
    if (Sheet === undefined) seen.names[Name] = Ref;
    else seen.local.push(`${Sheet}:${Name}`); // a sheet's own name, such as its print area
  }
  for (const name of wb.SheetNames) {
    const ws = wb.Sheets[name];
    for (const address of Object.keys(ws)) {
      const cell = ws[address];
      if (address.startsWith("!") || cell.f === undefined) continue;
      seen.formulas[`${name}!${address}`] = cell.f;
      seen.values[`${name}!${address}`] = cell.t === "e" ? cell.w : cell.v === undefined ? null : cell.v;
    }
  }
  // SheetJS (community edition) keeps no chart model; it lists the package's chart parts.
  seen.charts = wb.keys.filter((part) => /^\/?xl\/charts\/chart\d+\.xml$/.test(part)).length;
  return seen;
}

async function xlsxPopulate(file) {
  const XlsxPopulate = require("xlsx-populate");
  const wb = await XlsxPopulate.fromDataAsync(fs.readFileSync(file));
  const seen = { sheets: [], names: {}, local: [], formulas: {}, conditional: {}, validations: {} };
  // xlsx-populate resolves a name on request; the list of names is in the workbook part it keeps.
  for (const node of wb._node.children.find((n) => n.name === "definedNames").children) {
    const name = node.attributes.name;
    if (node.attributes.localSheetId !== undefined) {
      seen.local.push(`${node.attributes.localSheetId}:${name}`); // a sheet's own name, such as its print area
      continue;
    }
    seen.names[name] = wb.definedName(name) === undefined ? null : node.children[0];
  }
  for (const ws of wb.sheets()) {
    seen.sheets.push(ws.name());
    const used = ws.usedRange();
    if (used) {
      used.forEach((cell) => {
        const formula = cell.formula();
        if (formula) seen.formulas[`${ws.name()}!${cell.address()}`] = formula;
      });
    }
    // No API for conditional formats: they are kept, unparsed, in the sheet's XML tree.
    seen.conditional[ws.name()] = ws._node.children
      .filter((n) => n.name === "conditionalFormatting")
      .reduce((n, cf) => n + cf.children.filter((rule) => rule.name === "cfRule").length, 0);
    seen.validations[ws.name()] = Object.keys(ws._dataValidations).flatMap(cellsOf);
  }
  // No chart model either: the chart parts stay in the package it writes back.
  seen.charts = wb._zip.file(/^xl\/charts\/chart\d+\.xml$/).length;
  return seen;
}

const readers = { exceljs, sheetjs, "xlsx-populate": xlsxPopulate };
const [reader, file] = process.argv.slice(2);
readers[reader](file)
  .then((seen) => process.stdout.write(JSON.stringify(seen)))
  .catch((error) => {
    process.stderr.write(`${reader} could not read ${file}: ${error.message}\n`);
    process.exit(1);
  });
