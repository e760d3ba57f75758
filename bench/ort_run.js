// Times ONNX Runtime (onnxruntime-node's CPU provider, MLAS) on one model: session.run alone,
// median of REPS after one warm-up. Prints "ort_ms <median>", then "ort_runs" with each run.
//   node bench/ort_run.js MODEL.onnx INPUT.f32 N C H W THREADS REPS [THREADS_B]
// With THREADS_B, thread scaling in pairs instead (as bench/bench_scaling.cpp does for Lucent):
// a second session at THREADS_B, REPS pairs run alternately after a warm-up of each; prints
// "ort_scaling <median of THREADS / THREADS_B time> a_ms <median> b_ms <median>" and
// "ort_pairs" with each pair's ratio.
const ort = require('onnxruntime-node');
const fs = require('fs');

function median(v) {
    const s = v.slice().sort((a, b) => a - b);
    const n = s.length;
    return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

async function session(model, threads) {
    return ort.InferenceSession.create(model, {
        intraOpNumThreads: Number(threads),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
    });
}

async function timed(s, feeds) {
    const t = process.hrtime.bigint();
    await s.run(feeds);
    return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main() {
    const [model, input, n, c, h, w, threads, reps, threadsB] = process.argv.slice(2);
    const a = await session(model, threads);
    const buf = fs.readFileSync(input);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const feeds = {[a.inputNames[0]]: new ort.Tensor('float32', data, [n, c, h, w].map(Number))};
    await a.run(feeds);  // warm-up
    if (threadsB !== undefined) {
        const b = await session(model, threadsB);
        await b.run(feeds);
        const ta = [], tb = [], ratio = [];
        for (let i = 0; i < Number(reps); ++i) {
            let ra, rb;
            if (i % 2 === 0) { ra = await timed(a, feeds); rb = await timed(b, feeds); }
            else { rb = await timed(b, feeds); ra = await timed(a, feeds); }
            ta.push(ra); tb.push(rb); ratio.push(ra / rb);
        }
        console.log(`ort_scaling ${median(ratio).toFixed(3)} a_ms ${median(ta).toFixed(1)} b_ms ${median(tb).toFixed(1)}`);
        console.log(`ort_pairs ${ratio.map((v) => v.toFixed(3)).join(" ")}`);
        return;
    }
    const times = [];
    for (let i = 0; i < Number(reps); ++i) times.push(await timed(a, feeds));
    console.log(`ort_ms ${median(times).toFixed(1)}`);
    console.log(`ort_runs ${times.map((v) => v.toFixed(1)).join(" ")}`);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
