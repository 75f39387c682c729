using System.Globalization;
using System.Text.Json;
using DinCluster.Cluster.Runs;
using DinCluster.Data;
using Parquet;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess.FaultSuite;

/// <summary>
/// What every fault scenario shares: one tiny synthetic data set and the job's flags (same seeds, so
/// runs compare), and the fault-free baseline run, made once per suite folder and cached there
/// (REPORT_DIR/cache/), which also writes the "fault-free" row.
/// Cluster: coordinator + 2 PS + 1 data shard + 2 workers, 6 processes on 127.0.0.1, async, 3 epochs.
/// </summary>
public static class FaultSuiteCluster
{
    public const ulong DataSeed = 17;
    public const int Samples = 24_000;

    /// <summary>
    /// Flags after `local-cluster start --data D --out R`; metrics.csv gets a row per step (--log-every 1).
    /// Three epochs: after two the test AUC is still climbing steeply and two fault-free async runs
    /// differed by 0.04; after three they differed by 0.002.
    /// </summary>
    public static readonly IReadOnlyList<string> TrainArgs =
    [
        "--workers", "2", "--ps", "2", "--data-shards", "1", "--epochs", "3", "--embedding-dim", "16", "--batch-size", "128",
        "--sparse-lr", "0.1", "--dense-lr", "0.005", "--seed", "3", "--log-every", "1",
    ];

    /// <summary>One run of the suite, generous: the machine is shared and a recovery adds ~15 s.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The issue's tolerance: a fault run's final test AUC within this of the fault-free run (reported, not asserted).</summary>
    public const double AucTolerance = 0.005;

    /// <summary>What a test asserts: async runs vary, but a fault that lost or doubled updates shows beyond this.</summary>
    public const double AucSanityBound = 0.05;

    public static string CacheDir => Directory.CreateDirectory(Path.Combine(FaultRow.ReportDir, "cache")).FullName;

    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The data set (generated once into the cache): ~21.6k train samples in 3 files of 4 row groups, ~2.4k test.</summary>
    public static string Data(ITestOutputHelper output)
    {
        var dir = Path.Combine(CacheDir, $"data-{DataSeed}-{Samples}");
        output.WriteLine($"data seed {DataSeed}, {Samples} samples; job flags: {string.Join(' ', TrainArgs)}");
        if (File.Exists(Path.Combine(dir, "dataset.json"))) return dir;
        var tmp = dir + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        SyntheticGenerator.Generate(tmp, new SyntheticSettings
        {
            Samples = Samples, Seed = DataSeed, Users = 2_000, Items = 4_000, Categories = 50, HistoryMax = 20,
            RowGroupSize = 2_000, RowsPerFile = 8_000,
        });
        Directory.Move(tmp, dir);
        return dir;
    }

    private sealed record BaselineFile(string Key, double TestAuc, long SamplesConsumed, long SamplesExpected, double Seconds);

    /// <summary>The fault-free run's final test AUC: cached in REPORT_DIR/cache/baseline.json, else run now (and the row written).</summary>
    public static async Task<double> BaselineAuc(ITestOutputHelper output)
    {
        var data = Data(output);
        var key = $"data {DataSeed}/{Samples}; {string.Join(' ', TrainArgs)}";
        var file = Path.Combine(CacheDir, "baseline.json");
        await Gate.WaitAsync();
        try
        {
            if (File.Exists(file) && JsonSerializer.Deserialize<BaselineFile>(File.ReadAllText(file)) is { } cached && cached.Key == key)
            {
                output.WriteLine($"fault-free baseline (cached in {file}): test AUC {cached.TestAuc:F4}");
                if (!File.Exists(Path.Combine(FaultRow.ReportDir, "fault-free.json"))) Row(cached, "cached");
                return cached.TestAuc;
            }
            var run = Path.Combine(CacheDir, "baseline-run");
            if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
            var (code, text) = await LocalClusterScript.Run(["start", "--data", data, "--out", run, .. TrainArgs],
                "fault-free baseline run", RunTimeout, stopRunOnTimeout: run);
            output.WriteLine(text);
            var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
            if (code != 0 || summary.Status != "completed" || summary.Final is null)
            {
                new FaultRow("fault-free", "failed", null, null, null, null, null, null, $"local-cluster exited {code}: {summary.Error}").Write();
                throw new InvalidOperationException($"the fault-free baseline failed (local-cluster exit {code}, {summary.Status}: {summary.Error})");
            }
            var b = new BaselineFile(key, summary.Final.Auc, summary.Epochs.Sum(e => e.SamplesConsumed), summary.Epochs.Sum(e => e.SamplesExpected), summary.TrainSeconds);
            File.WriteAllText(file, JsonSerializer.Serialize(b));
            Row(b, "run now");
            output.WriteLine($"fault-free baseline: test AUC {b.TestAuc:F4}");
            return b.TestAuc;
        }
        finally
        {
            Gate.Release();
        }

        static void Row(BaselineFile b, string how) =>
            new FaultRow("fault-free", "passed", b.SamplesConsumed, b.SamplesExpected, 0, b.TestAuc, b.TestAuc, null,
                $"baseline for the AUC column ({how}; cached in cache/baseline.json)").Write();
    }

    /// <summary>A copy of the data set in <paramref name="dir"/> (train/, test/, dataset.json).</summary>
    public static string CopyData(string source, string dir)
    {
        foreach (var f in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(source, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
        return dir;
    }

    /// <summary>
    /// Overwrites the first 64 bytes of every column chunk of row group <paramref name="rowGroup"/> (its page
    /// headers) with 0xFF; the footer stays intact, so the file is listed fine and fails only when that row
    /// group is read: mid-epoch, in the data shard. Returns the row group's rows.
    /// </summary>
    public static async Task<long> CorruptRowGroup(string path, int rowGroup)
    {
        var spans = new List<(long Offset, long Length)>();
        long rows;
        await using (var stream = File.OpenRead(path))
        await using (var reader = await ParquetReader.CreateAsync(stream))
        {
            var group = reader.RowGroups[rowGroup];
            rows = group.RowCount;
            foreach (var field in reader.Schema.GetDataFields())
            {
                var meta = group.GetMetadata(field)?.MetaData ?? throw new InvalidDataException($"{path}: no metadata for {field.Name}");
                var start = meta.DictionaryPageOffset is { } d && d > 0 ? d : meta.DataPageOffset;
                spans.Add((start, Math.Min(64, meta.TotalCompressedSize)));
            }
        }
        await using var write = new FileStream(path, FileMode.Open, FileAccess.Write);
        foreach (var (offset, length) in spans)
        {
            write.Position = offset;
            await write.WriteAsync(Enumerable.Repeat((byte)0xFF, (int)length).ToArray());
        }
        return rows;
    }

    /// <summary>"AUC within 0.005 of fault-free" or "AUC NOT within ...".</summary>
    public static string CompareAuc(double auc, double baseline) =>
        string.Create(CultureInfo.InvariantCulture,
            $"AUC {(Math.Abs(auc - baseline) <= AucTolerance ? "within" : "NOT within")} {AucTolerance} of fault-free");
}
