using System.Diagnostics;
using System.Globalization;

namespace DinCluster.Data.Importers;

/// <summary>
/// What every import does around its own parsing: refuses to mix with an earlier import in DIR (unless
/// Overwrite), owns the train/test sinks, the bad-line policy, the temporary partition folder and the clock,
/// and at the end writes DIR/import.json. Disposed without <see cref="Complete"/> (an error), it deletes the
/// part files it wrote, so a failed import leaves no half data set behind.
/// </summary>
internal sealed class ImportRun : IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TextWriter _log;
    private bool _completed;

    public ImportOptions Options { get; }
    public SplitSpec Split { get; }
    /// <summary>Most recent ids kept per history; int.MaxValue when unlimited.</summary>
    public int MaxHistory { get; }
    public long Budget { get; }
    public BadLines Bad { get; }
    public SplitSink Train { get; }
    public SplitSink Test { get; }
    public ImportReport Report { get; }
    public string TempDir { get; }

    public ImportRun(string importer, ImportOptions options, SplitSpec defaultSplit, int defaultMaxHistory, TextWriter log)
    {
        options.Validate();
        _log = log;
        Options = options;
        Split = options.Split ?? defaultSplit;
        var maxHistory = options.MaxHistory ?? defaultMaxHistory;
        MaxHistory = maxHistory == 0 ? int.MaxValue : maxHistory;
        Budget = options.ResolveBudget();
        Bad = new BadLines(options.OnBadInput);
        PrepareOutput(options.OutDir, options.Overwrite);
        TempDir = Path.Combine(options.OutDir, ".import-tmp");
        Train = new SplitSink(options.OutDir, "train", options.RowGroupSize, options.RowsPerFile);
        Test = new SplitSink(options.OutDir, "test", options.RowGroupSize, options.RowsPerFile);
        Report = new ImportReport
        {
            Importer = importer,
            Split = Split.ToString(),
            Seed = options.Seed,
            MaxHistory = maxHistory,
            MemoryBudgetBytes = Budget,
        };
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Log(string line) => _log.WriteLine(line);

    /// <summary>Records that <paramref name="rows"/> data lines of <paramref name="file"/> were read, and says so.</summary>
    public void RowsRead(string file, long rows)
    {
        Report.Inputs.Add(file);
        Report.RowsReadByFile[file] = rows;
        Report.RowsRead += rows;
        var s = _clock.Elapsed.TotalSeconds;
        Log($"  read {rows:N0} rows of {file} ({s:F1} s since start, {Report.RowsRead / Math.Max(s, 1e-9):N0} rows/s)");
    }

    /// <summary>A partition spill sized for about <paramref name="estimatedBytes"/> of records. A partition may take
    /// half the budget on disk: loaded, its records and the per-event arrays of pass 2 take about twice that.</summary>
    public UserSpill<T> CreateSpill<T>(long estimatedBytes) where T : unmanaged, ISpillRecord
    {
        var max = Budget / 4;
        var spill = new UserSpill<T>(TempDir, UserSpill<T>.PartitionsFor(estimatedBytes, max), max);
        Report.Partitions = spill.Partitions;
        return spill;
    }

    /// <summary>Closes the part files, fills in the counts and writes import.json.</summary>
    public ImportReport Complete(long users, long items, long categories, long trainUsers, long testUsers, long truncated, int partitionsLoaded)
    {
        Train.Dispose();
        Test.Dispose();
        var r = Report;
        r.Train = new SplitReport { Samples = Train.Samples, Positives = Train.Positives, Users = trainUsers, Files = Train.Files };
        r.Test = new SplitReport { Samples = Test.Samples, Positives = Test.Positives, Users = testUsers, Files = Test.Files };
        r.Users = users;
        r.Items = items;
        r.Categories = categories;
        r.TruncatedHistories = truncated;
        r.Partitions = partitionsLoaded;
        r.SkippedLines = Bad.Total;
        r.SkippedByReason = Bad.Snapshot();
        r.SkippedExamples = Bad.Examples;
        r.Seconds = _clock.Elapsed.TotalSeconds;
        r.RowsPerSecond = r.RowsRead / Math.Max(r.Seconds, 1e-9);
        r.SamplesPerSecond = (Train.Samples + Test.Samples) / Math.Max(r.Seconds, 1e-9);
        if (Train.Samples == 0) r.Warnings.Add("the train split is empty (no train/ files written)");
        if (Test.Samples == 0) r.Warnings.Add($"the test split is empty (no test/ files written); split {Split}");
        r.Save(Options.OutDir);
        _completed = true;

        Log($"import {r.Importer}: {r.RowsRead:N0} rows read in {r.Seconds:F1} s ({r.RowsPerSecond:N0} rows/s); " +
            $"train {Train.Samples:N0} samples ({Rate(Train)}), test {Test.Samples:N0} samples ({Rate(Test)}), split {Split}");
        Log($"  {users:N0} users, {items:N0} items, {categories:N0} categories; {r.Partitions} partition(s), " +
            $"budget {Budget / (1 << 20):N0} MiB; histories cut to {(MaxHistory == int.MaxValue ? "no limit" : MaxHistory.ToString(CultureInfo.InvariantCulture))}: {truncated:N0}");
        if (r.SkippedLines > 0)
            Log($"  skipped lines: {string.Join(", ", r.SkippedByReason.Select(kv => $"{kv.Key} {kv.Value:N0}"))} (examples in import.json)");
        foreach (var w in r.Warnings) Log($"  warning: {w}");
        Log($"  wrote {Path.Combine(Options.OutDir, ImportReport.FileName)}");
        return r;
    }

    private static string Rate(SplitSink s) =>
        s.Samples == 0 ? "none positive" : $"{100.0 * s.Positives / s.Samples:F1}% positive";

    private static void PrepareOutput(string dir, bool overwrite)
    {
        foreach (var split in new[] { "train", "test" })
        {
            var folder = Path.Combine(dir, split);
            if (!Directory.Exists(folder)) continue;
            var existing = Directory.GetFiles(folder, "*.parquet");
            if (existing.Length == 0) continue;
            if (!overwrite)
                throw new ArgumentException($"{folder} already holds {existing.Length} Parquet file(s); choose another --out or pass --force to replace them");
            foreach (var f in existing) File.Delete(f);
        }
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, ".import-tmp");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
    }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
        if (!_completed)
        {
            foreach (var f in Train.Files.Concat(Test.Files))
            {
                var path = Path.Combine(Options.OutDir, f);
                if (File.Exists(path)) File.Delete(path);
            }
        }
        if (Directory.Exists(TempDir)) Directory.Delete(TempDir, recursive: true);
    }
}
