using DinCluster.Core.Routing;

namespace DinCluster.Data.Importers;

/// <summary>
/// `import samples`: the samples CSV of DESIGN.md, one ready-made sample per line:
/// <code>
///   user_id,item_id,category_id,hist_item_id,hist_category_id,label[,timestamp]
///   7,1003,12,1001 1002,11 12,1,1500000300        histories space-separated, oldest first, may be empty
/// </code>
/// Columns are found by name (order free, other columns ignored). Histories are kept as given unless
/// --max-history cuts them (most recent kept). Split by default: each user's last sample to test, "last"
/// meaning by (timestamp, line) with a timestamp column and by line without one.
/// </summary>
public static class SamplesCsvImporter
{
    private const int MinLineBytes = 16;

    public static ImportReport Run(string path, ImportOptions options, TextWriter log, char delimiter = ',')
    {
        using var csv = new CsvReader(path, delimiter);
        const string What = "a samples CSV column";
        var user = csv.Column("user_id", What);
        var item = csv.Column("item_id", What);
        var category = csv.Column("category_id", What);
        var histItems = csv.Column("hist_item_id", What);
        var histCategories = csv.Column("hist_category_id", What);
        var label = csv.Column("label", What);
        var timestamp = csv.OptionalColumn("timestamp");
        if (timestamp is null && options.Split is { NeedsTimestamps: true })
            throw new ArgumentException($"--split {options.Split} needs a timestamp column, and {path} has none");

        using var run = new ImportRun("samples", options, new SplitSpec.LastPerUser(1), 0, log);
        log.WriteLine($"import samples: {path} -> {options.OutDir}");
        var cells = new Cells(csv, run.Bad);
        using var spill = run.CreateSpill<SampleRecord>(InputFiles.Size(path) / MinLineBytes * SampleRecord.Bytes);
        var items = new HashSet<long>();
        var categories = new HashSet<long>();
        List<long> hi = [], hc = [];
        var trailing = new List<long>();
        long rows = 0;
        while (csv.Read())
        {
            rows++;
            if (!cells.Shape()) continue;
            if (!cells.Long(user, "user_id", out var u) || !cells.Long(item, "item_id", out var i) || !cells.Long(category, "category_id", out var c)) continue;
            if (!cells.Ids(histItems, "hist_item_id", hi) || !cells.Ids(histCategories, "hist_category_id", hc)) continue;
            if (hi.Count != hc.Count)
            {
                cells.Bad(BadLineReason.HistoryLengthMismatch, $"hist_item_id has {hi.Count} ids, hist_category_id has {hc.Count}; paired histories must have equal lengths");
                continue;
            }
            if (!cells.Label(label, "label", out var l)) continue;
            long t = 0;
            if (timestamp is { } tc && !cells.Long(tc, "timestamp", out t)) continue;
            trailing.Clear();
            trailing.AddRange(hi);
            trailing.AddRange(hc);
            spill.Add(new SampleRecord(u, i, c, t, csv.LineNumber, l, hi.Count), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(trailing));
            items.Add(i);
            categories.Add(c);
            foreach (var x in hi) items.Add(x);
            foreach (var x in hc) categories.Add(x);
        }
        run.RowsRead(path, rows);

        var splitter = new Splitter(run, timestamp is not null);
        foreach (var chunk in spill.Drain()) splitter.Write(chunk);
        run.Report.IdMapping = "ids are the integers of the input";
        return run.Complete(splitter.Users, items.Count, categories.Count, splitter.TrainUsers, splitter.TestUsers, splitter.Truncated, spill.Loaded);
    }

    /// <summary>A sample on disk: this header, then HistLength item ids and HistLength category ids.</summary>
    private readonly record struct SampleRecord(long User, long Item, long Category, long Timestamp, long Line, int Label, int HistLength) : ISpillRecord
    {
        public const int Bytes = 48;
        public int TrailingLongs => 2 * HistLength;
    }

    /// <summary>Pass 2 for ready-made samples: order each user's samples, split, write (train shuffled).</summary>
    private sealed class Splitter(ImportRun run, bool hasTimestamps)
    {
        private int[] _order = [];
        private byte[] _test = [];
        private int _chunk;

        public long Users { get; private set; }
        public long TrainUsers { get; private set; }
        public long TestUsers { get; private set; }
        public long Truncated { get; private set; }

        public void Write(SpillChunk<SampleRecord> chunk)
        {
            var n = chunk.Count;
            var r = chunk.Records;
            if (_order.Length < n)
            {
                _order = new int[n];
                _test = new byte[n];
            }
            for (var i = 0; i < n; i++) _order[i] = i;
            Array.Sort(_order, 0, n, Comparer<int>.Create((x, y) =>
            {
                var c = r[x].User.CompareTo(r[y].User);
                if (c == 0) c = r[x].Timestamp.CompareTo(r[y].Timestamp);
                return c != 0 ? c : r[x].Line.CompareTo(r[y].Line);
            }));

            for (var a = 0; a < n;)
            {
                var b = a + 1;
                while (b < n && r[_order[b]].User == r[_order[a]].User) b++;
                Users++;
                var userIsTest = run.Split is SplitSpec.Users u && SplitSpec.IsTestUser(r[_order[a]].User, run.Options.Seed, u.Fraction);
                bool anyTrain = false, anyTest = false;
                for (var k = a; k < b; k++)
                {
                    var s = r[_order[k]];
                    var test = run.Split switch
                    {
                        SplitSpec.LastPerUser last => k >= b - last.Count,
                        SplitSpec.Users => userIsTest,
                        SplitSpec.Time t => s.Timestamp >= t.From,
                        _ => throw new InvalidOperationException($"unknown split {run.Split}"),
                    };
                    _test[k] = test ? (byte)1 : (byte)0;
                    anyTest |= test;
                    anyTrain |= !test;
                }
                if (anyTrain) TrainUsers++;
                if (anyTest) TestUsers++;
                a = b;
            }

            for (var k = 0; k < n; k++)
                if (_test[k] == 1) Emit(chunk, _order[k], run.Test);

            // train: the positions of train samples, shuffled (seeded per partition)
            var train = 0;
            for (var k = 0; k < n; k++)
                if (_test[k] == 0) _order[train++] = _order[k];
            if (run.Options.Shuffle)
            {
                var rng = new Xoshiro256(StableHash.SplitMix64(run.Options.Seed ^ StableHash.Fmix64((ulong)_chunk + 1)));
                for (var i = train - 1; i > 0; i--)
                {
                    var k = rng.Next(i + 1);
                    (_order[i], _order[k]) = (_order[k], _order[i]);
                }
            }
            for (var k = 0; k < train; k++) Emit(chunk, _order[k], run.Train);
            _chunk++;
        }

        private void Emit(SpillChunk<SampleRecord> chunk, int i, SplitSink sink)
        {
            var s = chunk.Records[i];
            var values = chunk.TrailingOf(i);
            var items = values[..s.HistLength];
            var categories = values[s.HistLength..];
            if (s.HistLength > run.MaxHistory)
            {
                items = items[^run.MaxHistory..];
                categories = categories[^run.MaxHistory..];
                Truncated++;
            }
            sink.Write(s.User, s.Item, s.Category, items, categories, s.Label, hasTimestamps ? s.Timestamp : null);
        }
    }
}
