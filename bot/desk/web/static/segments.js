/* SMS segment counting, a port of bot/sms/segments.py (GSM-7 / UCS-2, TS 23.038/23.040).
 * GSM-7: basic characters 1 septet, extension characters 2; 160 per single message,
 * 153 per part; an escape pair never splits. UCS-2: UTF-16 code units; 70 single, 67 per
 * part; a surrogate pair never splits. */
(function (global) {
  "use strict";

  var GSM7 = "GSM-7";
  var UCS2 = "UCS-2";
  var BASIC = new Set(Array.from(
    "@£$¥èéùìòÇ\nØø\rÅå" +
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
    " !\"#¤%&'()*+,-./" +
    "0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNO" +
    "PQRSTUVWXYZÄÖÑÜ§" +
    "¿abcdefghijklmno" +
    "pqrstuvwxyzäöñüà"
  ));
  var EXTENSION = new Set(Array.from("\f^{}\\[~]|€"));
  var LIMITS = {};
  LIMITS[GSM7] = { single: 160, multi: 153 };
  LIMITS[UCS2] = { single: 70, multi: 67 };

  function isHigh(code) { return code >= 0xd800 && code <= 0xdbff; }
  function isLow(code) { return code >= 0xdc00 && code <= 0xdfff; }

  function isGsm7(text) {
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false;
    }
    return true;
  }

  /* [encoding, length in units, wide atoms as [start index, size in code units]] */
  function measure(text) {
    var wide = [];
    var i;
    if (isGsm7(text)) {
      for (i = 0; i < text.length; i++) {
        if (EXTENSION.has(text[i])) wide.push([i, 1]);
      }
      return [GSM7, text.length + wide.length, wide];
    }
    for (i = 0; i < text.length; i++) {
      if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
        wide.push([i, 2]);
        i++;
      }
    }
    return [UCS2, text.length, wide];  /* every code unit is one unit; a pair is two */
  }

  /* Greedy split into parts of at most cap units; a wide atom that does not fit moves. */
  function partEnds(n, wide, cap) {
    var ends = [];
    var used = 0;
    var pos = 0;
    var atoms = wide.concat([[n, 0]]);
    for (var k = 0; k < atoms.length; k++) {
      var start = atoms[k][0];
      var size = atoms[k][1];
      var run = start - pos;
      while (used + run > cap) {
        var take = cap - used;
        pos += take;
        run -= take;
        ends.push(pos);
        used = 0;
      }
      used += run;
      pos = start;
      if (size === 0) break;
      if (used + 2 > cap) {
        ends.push(pos);
        used = 0;
      }
      used += 2;
      pos += size;
    }
    ends.push(n);
    return ends;
  }

  /* {encoding, segments, length, perSegment} like sms_info() (empty text: 0 segments). */
  function smsInfo(text) {
    text = String(text || "");
    if (!text) return { encoding: GSM7, segments: 0, length: 0, perSegment: 160 };
    var m = measure(text);
    var encoding = m[0], length = m[1], wide = m[2];
    var limit = LIMITS[encoding];
    if (length <= limit.single) {
      return { encoding: encoding, segments: 1, length: length, perSegment: limit.single };
    }
    var segments = wide.length
      ? partEnds(text.length, wide, limit.multi).length
      : Math.ceil(length / limit.multi);
    return { encoding: encoding, segments: segments, length: length, perSegment: limit.multi };
  }

  global.SmsSegments = { smsInfo: smsInfo, GSM7: GSM7, UCS2: UCS2 };
})(window);
