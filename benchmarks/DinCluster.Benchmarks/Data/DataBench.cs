using System.Diagnostics;
using DinCluster.Core.Features;
using DinCluster.Data;
using Parquet;

namespace DinCluster.Benchmarks.Data;

/// <summary>Figures of one <see cref="DataBench.Run"/>, one entry per page compression (Snappy first).</summary>
public sealed record DataBenchResult(int Samples, double MeanHistoryLength, IReadOnlyList<DataBenchCodecResult> Codecs);

/// <param name="DecodeSamplesPerCpuSecond">Per second of process CPU time (GC included): the figure that
/// holds on a machine shared with other work, where wall-clock time also counts waiting for a core.</param>
/// <param name="AllocatedBytesPerSample">GC.GetAllocatedBytesForCurrentThread over the decode, per sample.</param>
/// <param name="BatchBytesPerSample">Of those, the arrays of the output batches themselves.</param>
public sealed record DataBenchCodecResult(
    string Compression,
    int RowGroups,
    long FileBytes,
    double WriteSamplesPerSecond,
    double DecodeSamplesPerSecond,
    double DecodeSamplesPerCpuSecond,
    double AllocatedBytesPerSample,
    double BatchBytesPerSample);

/// <summary>
/// Writes a default-schema behaviour log whose histories average 20 ids (uniform 0..40), then
/// decodes it on this thread into batches of 256 the way a data shard does (row group by row
/// group, default 8192 rows) and reports samples/s and bytes allocated per sample. Run once with
/// Snappy pages and once uncompressed: Parquet.Net 6.1 copies each compressed page into a fresh
/// array, which is most of the allocation beyond the output batches.
/// </summary>
public static class DataBench
{
    public const int BatchSize = 256;

    public static DataBenchResult Run(int samples, TextWriter log)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        var schema = FeatureSchema.Default();
        var dir = Directory.CreateTempSubdirectory("dincluster-databench-");
        try
        {
            var mean = 0.0;
            var codecs = new List<DataBenchCodecResult>();
            foreach (var compression in new[] { CompressionMethod.Snappy, CompressionMethod.None })
            {
                var path = Path.Combine(dir.FullName, $"bench-{compression}.parquet");
                var write = Stopwatch.StartNew();
                mean = Write(path, schema, samples, compression);
                write.Stop();

                var reader = new BehaviourLogReader(schema);
                var info = reader.Inspect(path)!;
                Decode(reader, info, out _);   // warm-up: JIT and array pools

                var allocated = GC.GetAllocatedBytesForCurrentThread();
                var allocatedProcess = GC.GetTotalAllocatedBytes(precise: true);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var decode = Stopwatch.StartNew();
                var decoded = Decode(reader, info, out var batchBytes);
                decode.Stop();
                cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
                allocatedProcess = GC.GetTotalAllocatedBytes(precise: true) - allocatedProcess;
                if (decoded != samples) throw new InvalidOperationException($"decoded {decoded} samples of {samples}");

                var r = new DataBenchCodecResult(compression.ToString(), info.RowGroupCount, new FileInfo(path).Length,
                    samples / write.Elapsed.TotalSeconds, samples / decode.Elapsed.TotalSeconds, samples / cpu.TotalSeconds,
                    (double)allocated / samples, (double)batchBytes / samples);
                codecs.Add(r);
                log.WriteLine($"data bench [{r.Compression}]: {samples:N0} samples, mean history {mean:F1} ids, {r.RowGroups} row groups, {r.FileBytes / 1e6:F1} MB");
                log.WriteLine($"  write  {r.WriteSamplesPerSecond,12:N0} samples/s");
                log.WriteLine($"  decode {r.DecodeSamplesPerSecond,12:N0} samples/s on one thread (Parquet -> Batch of {BatchSize}), " +
                    $"{r.DecodeSamplesPerCpuSecond:N0} per CPU-second");
                log.WriteLine($"  allocated {r.AllocatedBytesPerSample:F0} B/sample on this thread ({(double)allocatedProcess / samples:F0} process-wide), " +
                    $"of which {r.BatchBytesPerSample:F0} B are the output batches");
            }
            return new DataBenchResult(samples, mean, codecs);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Writes the bench file from a fixed seed; returns the mean history length.</summary>
    private static double Write(string path, FeatureSchema schema, int samples, CompressionMethod compression)
    {
        var rng = new Random(20180819);
        long historyIds = 0;
        using var writer = BehaviourLogWriter.Create(path, schema, compression: compression);
        for (var i = 0; i < samples; i++)
        {
            var length = rng.Next(41);
            historyIds += length;
            var items = new long[length];
            var categories = new long[length];
            for (var t = 0; t < length; t++)
            {
                items[t] = rng.Next(1_000_000);
                categories[t] = rng.Next(1000);
            }
            writer.Write(new Sample(rng.Next(100_000), rng.Next(1_000_000), rng.Next(1000), items, categories, rng.Next(2)));
        }
        return (double)historyIds / samples;
    }

    private static long Decode(BehaviourLogReader reader, ParquetFileInfo info, out long batchBytes)
    {
        long count = 0;
        batchBytes = 0;
        for (var g = 0; g < info.RowGroupCount; g++)
            foreach (var batch in reader.ReadBatches(info.Path, g, BatchSize, firstBatchId: g * 1000L))
            {
                count += batch.Count;
                batchBytes += batch.Labels.Length * sizeof(float)
                    + batch.Sparse.Sum(a => (long)a.Length * sizeof(long))
                    + batch.Lengths.Sum(a => (long)a.Length * sizeof(int))
                    + batch.Values.Sum(a => (long)a.Length * sizeof(long));
            }
        return count;
    }
}
