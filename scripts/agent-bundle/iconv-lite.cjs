// Stands in for iconv-lite inside the agent bundle (scripts/build.mjs aliases it). Express pulls
// iconv-lite in through body-parser and raw-body: half a megabyte of code-page tables that every
// agent start would parse, although the agent only reads raw bodies (express.raw never decodes).
// This keeps the three calls those packages make, backed by Node's own decoders, with iconv-lite's
// error message for an unknown encoding (raw-body turns it into a 415).
'use strict';

function decoderFor(encoding) {
  try {
    return new TextDecoder(String(encoding).toLowerCase());
  } catch {
    throw new Error(`Encoding not recognized: '${encoding}' (searched as: '${encoding}')`);
  }
}

exports.encodingExists = (encoding) => {
  try {
    decoderFor(encoding);
    return true;
  } catch {
    return false;
  }
};

exports.getDecoder = (encoding) => {
  const decoder = decoderFor(encoding);
  return {
    write: (chunk) => decoder.decode(chunk, { stream: true }),
    end: () => decoder.decode() || undefined,
  };
};

exports.decode = (buffer, encoding) => decoderFor(encoding).decode(buffer);
