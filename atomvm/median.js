// The median of the finite numbers in xs (the mean of the middle two when
// there is an even number of them); NaN when there is none. Shared by the
// lane's scripts that print medians (bench.js, web-bench.js, web.js).
'use strict';
module.exports = function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
