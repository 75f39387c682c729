using System.Diagnostics;
using System.Globalization;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using DinCluster.Core.Routing;

namespace DinCluster.Benchmarks.ParameterServer;

/// <summary>Figures of one <see cref="PsBench.Run"/>.</summary>
/// <param name="Rows">Rows in the table.</param>
/// <param name="Dim">Row width.</param>
/// <param name="FillRowsPerSecond">Row creation rate while filling the table (push of new ids: init + map insert + one update).</param>
/// <param name="UpdateRowsPerSecond">Adagrad row updates per second on one thread, Zipf ids, pushes of <see cref="PsBench.PushSize"/> unique ids.</param>
/// <param name="PayloadBytes">rows x dim x 4 x (1 + slots): weights and accumulators alone.</param>
/// <param name="ResidentBytes">Growth of the process working set while the table was built.</param>
/// <param name="GcHeapBytes">Growth of the GC heap (live objects after a full collection) while the table was built.</param>
/// <param name="TableBytes">What the shard reports in its stats (slabs, row metadata, id map).</param>
/// <param name="PullNanosPerId">Time per id of a pull of <see cref="PsBench.PullSize"/> random stored ids.</param>
public sealed record PsBenchResult(
    long Rows,
    int Dim,
    double FillRowsPerSecond,
    double UpdateRowsPerSecond,
    long PayloadBytes,
    long ResidentBytes,
    long GcHeapBytes,
    long TableBytes,
    double PullNanosPerId)
{
    public double ResidentRatio => (double)ResidentBytes / PayloadBytes;
    public double GcHeapRatio => (double)GcHeapBytes / PayloadBytes;
}

/// <summary>
/// Parameter-server shard throughput and memory in one run: fills one Adagrad table, then times
/// sparse updates with Zipf-distributed ids and pulls of random ids. Single-threaded throughout,
/// as a PS actor processes its mailbox. Needs about rows x dim x 9 bytes of memory.
/// </summary>
public static class PsBench
{
    public const int PushSize = 4096;
    public const int PullSize = 10_000;
    private const string Table = "item";
    private const double ZipfExponent = 1.05;
    private const int Seed = 20240601;

    public static PsBenchResult Run(long rows = 10_000_000, int dim = 64, TextWriter? log = null)
    {
        log ??= Console.Out;
        if (rows < PushSize || rows > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(rows), $"rows is set to {rows}, must be in [{PushSize}, {int.MaxValue}]");
        var n = (int)rows;
        var settings = new EmbeddingSettings { Optimizer = SparseOptimizerSettings.Default(SparseOptimizerKind.Adagrad) };
        var slots = settings.Optimizer.Create().SlotCount;
        log.WriteLine(FormattableString.Invariant($"ps bench: {rows:N0} rows x {dim}, Adagrad, seed {Seed}, {Environment.ProcessorCount} cores, SIMD {System.Numerics.Vector<float>.Count} floats"));

        // Rank k (0 = most frequent) is id fmix64(k): hashed-looking ids. Rows are created in a
        // permuted rank order so hot rows are scattered over the slab, not packed at its start.
        static long IdOf(long rank) => (long)StableHash.Fmix64((ulong)rank);
        var stride = 1_000_003L;
        while (Gcd(stride, rows) != 1) stride += 2;

        var (ws0, heap0) = Memory();
        var shard = new EmbeddingShard([(Table, dim)], settings);
        var ids = new long[PushSize];
        var zeros = new float[PushSize * dim];
        var watch = Stopwatch.StartNew();
        long batch = 0;
        for (long start = 0; start < rows; start += PushSize)
        {
            var count = (int)Math.Min(PushSize, rows - start);
            for (var i = 0; i < count; i++) ids[i] = IdOf((start + i) * stride % rows);
            shard.Push(Table, ids.AsSpan(0, count), zeros.AsSpan(0, count * dim), batch++);
        }
        var fillRate = rows / watch.Elapsed.TotalSeconds;
        var (ws1, heap1) = Memory();
        var payload = rows * dim * sizeof(float) * (1 + slots);
        var tableBytes = shard.Stats().Bytes;
        log.WriteLine(FormattableString.Invariant($"  fill: {fillRate / 1e6:F2} M rows/s ({watch.Elapsed.TotalSeconds:F1} s)"));
        log.WriteLine(FormattableString.Invariant($"  memory: payload {payload / 1e9:F3} GB; working set +{(ws1 - ws0) / 1e9:F3} GB ({(double)(ws1 - ws0) / payload:F3}x); GC heap +{(heap1 - heap0) / 1e9:F3} GB ({(double)(heap1 - heap0) / payload:F3}x); table stats {tableBytes / 1e9:F3} GB"));

        // Pushes of PushSize unique Zipf ids, drawn before timing. Timed in rounds, reporting the
        // median: the machine may be shared, and one slow round should not decide the figure.
        var zipf = new ZipfSampler(rows, ZipfExponent, Seed);
        const int warmup = 50, rounds = 5, pushesPerRound = 250;
        var pushIds = new long[warmup + rounds * pushesPerRound][];
        var unique = new HashSet<long>();
        for (var p = 0; p < pushIds.Length; p++)
        {
            unique.Clear();
            while (unique.Count < PushSize) unique.Add(IdOf(zipf.Next() - 1));
            pushIds[p] = [.. unique];
        }
        var rng = new Random(Seed);
        var grads = new float[PushSize * dim];
        for (var i = 0; i < grads.Length; i++) grads[i] = (float)(rng.NextDouble() - 0.5) * 0.02f;
        for (var p = 0; p < warmup; p++) shard.Push(Table, pushIds[p], grads, batch++);
        var updateRates = new double[rounds];
        for (var round = 0; round < rounds; round++)
        {
            watch.Restart();
            for (var p = 0; p < pushesPerRound; p++) shard.Push(Table, pushIds[warmup + round * pushesPerRound + p], grads, batch++);
            updateRates[round] = (double)pushesPerRound * PushSize / watch.Elapsed.TotalSeconds;
        }
        var updateRate = Median(updateRates);
        log.WriteLine(FormattableString.Invariant($"  update: {updateRate / 1e6:F2} M rows/s median of {rounds} rounds (range {updateRates.Min() / 1e6:F2}-{updateRates.Max() / 1e6:F2}; Zipf {ZipfExponent}, {pushesPerRound} pushes of {PushSize} unique ids per round)"));

        // Uniform random stored ids (the cold case: nearly every row misses the caches), drawn before timing.
        const int pullsPerRound = 40;
        var pullIds = new long[rounds * pullsPerRound][];
        for (var p = 0; p < pullIds.Length; p++)
        {
            pullIds[p] = new long[PullSize];
            for (var i = 0; i < PullSize; i++) pullIds[p][i] = IdOf(rng.NextInt64(rows));
        }
        var dest = new float[PullSize * dim];
        for (var p = 0; p < 10; p++) shard.Pull(Table, pullIds[p], dest);
        var pullTimes = new double[rounds];
        for (var round = 0; round < rounds; round++)
        {
            watch.Restart();
            for (var p = 0; p < pullsPerRound; p++) shard.Pull(Table, pullIds[round * pullsPerRound + p], dest);
            pullTimes[round] = watch.Elapsed.TotalNanoseconds / ((double)pullsPerRound * PullSize);
        }
        var pullNs = Median(pullTimes);
        log.WriteLine(FormattableString.Invariant($"  pull: {pullNs:F0} ns per id median of {rounds} rounds (range {pullTimes.Min():F0}-{pullTimes.Max():F0}; {pullsPerRound} pulls of {PullSize:N0} random ids per round)"));
        GC.KeepAlive(shard);
        return new PsBenchResult(rows, dim, fillRate, updateRate, payload, ws1 - ws0, heap1 - heap0, tableBytes, pullNs);
    }

    private static (long WorkingSet, long GcHeap) Memory()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        return (self.WorkingSet64, heap);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>
    /// Zipf ranks 1..n with P(k) ~ k^-s by rejection-inversion (Hörmann and Derflinger 1996, as in
    /// Apache Commons RNG): O(1) per draw and no table, so 10M ranks cost nothing to set up.
    /// </summary>
    private sealed class ZipfSampler
    {
        private readonly double _s;
        private readonly long _n;
        private readonly double _hX1;
        private readonly double _hN;
        private readonly double _threshold;
        private readonly Random _rng;

        public ZipfSampler(long n, double s, int seed)
        {
            _n = n;
            _s = s;
            _rng = new Random(seed);
            _hX1 = HIntegral(1.5) - 1;
            _hN = HIntegral(n + 0.5);
            _threshold = 2 - HIntegralInverse(HIntegral(2.5) - H(2));
        }

        public long Next()
        {
            while (true)
            {
                var u = _hN + _rng.NextDouble() * (_hX1 - _hN);
                var x = HIntegralInverse(u);
                var k = Math.Clamp((long)(x + 0.5), 1, _n);
                if (k - x <= _threshold || u >= HIntegral(k + 0.5) - H(k)) return k;
            }
        }

        private double H(double x) => Math.Exp(-_s * Math.Log(x));

        private double HIntegral(double x)
        {
            var logX = Math.Log(x);
            return Helper2((1 - _s) * logX) * logX;
        }

        private double HIntegralInverse(double x)
        {
            var t = Math.Max(-1, x * (1 - _s));
            return Math.Exp(Helper1(t) * x);
        }

        // log1p(x)/x and expm1(x)/x, with series near 0 where the quotients lose precision.
        private static double Helper1(double x) => Math.Abs(x) > 1e-8 ? Math.Log(1 + x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
        private static double Helper2(double x) => Math.Abs(x) > 1e-8 ? (Math.Exp(x) - 1) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
    }
}
