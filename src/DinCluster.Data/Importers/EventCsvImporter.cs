namespace DinCluster.Data.Importers;

/// <summary>`import csv`: an event log with named columns (see Importers/README.md).</summary>
public sealed record EventCsvSource
{
    public required string Path { get; init; }
    public string UserColumn { get; init; } = "user_id";
    public string ItemColumn { get; init; } = "item_id";
    public string CategoryColumn { get; init; } = "category_id";
    public string TimestampColumn { get; init; } = "timestamp";
    public string LabelColumn { get; init; } = "label";

    /// <summary>When set, the label is rating &gt;= <see cref="Threshold"/> and <see cref="LabelColumn"/> is not read.</summary>
    public string? RatingColumn { get; init; }
    public double Threshold { get; init; } = 4;
    public char Delimiter { get; init; } = ',';

    /// <summary>User, item and category cells are strings, mapped by <see cref="StringIds"/>.</summary>
    public bool HashIds { get; init; }
}

/// <summary>
/// `import csv`: each event (a row: user, item, category, timestamp, label or rating) becomes one sample whose
/// history is the user's earlier positive events, most recent MaxHistory kept. Negatives are the log's own
/// label-0 rows (or ratings below the threshold); none are sampled.
/// </summary>
public static class EventCsvImporter
{
    /// <summary>A CSV row takes at least this many bytes (5 short cells): the partition estimate errs on the many side.</summary>
    private const int MinLineBytes = 20;

    public static ImportReport Run(EventCsvSource source, ImportOptions options, TextWriter log)
    {
        using var csv = new CsvReader(source.Path, source.Delimiter);
        var user = csv.Column(source.UserColumn, "the user id; --user-column");
        var item = csv.Column(source.ItemColumn, "the item id; --item-column");
        var category = csv.Column(source.CategoryColumn, "the item's category id; --category-column");
        var timestamp = csv.Column(source.TimestampColumn, "the event time; --timestamp-column");
        var label = source.RatingColumn is { } rc ? csv.Column(rc, "the rating; --rating-column") : csv.Column(source.LabelColumn, "the 0/1 label; --label-column or --rating-column");
        using var run = new ImportRun("csv", options, new SplitSpec.LastPerUser(1), 50, log);
        var cells = new Cells(csv, run.Bad);

        using var spill = run.CreateSpill<EventRecord>(InputFiles.Size(source.Path) / MinLineBytes * 48);
        var items = new HashSet<long>();
        var categories = new HashSet<long>();
        long rows = 0;
        log.WriteLine($"import csv: {source.Path} -> {options.OutDir} ({spill.Partitions} partition(s))");
        while (csv.Read())
        {
            rows++;
            if (!cells.Shape()) continue;
            if (!cells.Id(user, source.UserColumn, source.HashIds, out var u)) continue;
            if (!cells.Id(item, source.ItemColumn, source.HashIds, out var i)) continue;
            if (!cells.Id(category, source.CategoryColumn, source.HashIds, out var c)) continue;
            if (!cells.Long(timestamp, source.TimestampColumn, out var t)) continue;
            int l;
            if (source.RatingColumn is { } ratingColumn)
            {
                if (!cells.Double(label, ratingColumn, out var r)) continue;
                l = r >= source.Threshold ? 1 : 0;
            }
            else if (!cells.Label(label, source.LabelColumn, out l)) continue;
            spill.Add(new EventRecord(u, i, c, t, csv.LineNumber, l));
            items.Add(i);
            categories.Add(c);
        }
        run.RowsRead(source.Path, rows);

        var builder = new EventSampleBuilder(run);
        foreach (var chunk in spill.Drain()) builder.Build(chunk);
        run.Report.IdMapping = source.HashIds
            ? "user, item and category cells are strings: id = first 64 bits of MurmurHash3_x64_128 of the UTF-8 text (mmh3.hash64(s)[0])"
            : "ids are the integers of the input";
        return run.Complete(builder.Users, items.Count, categories.Count, builder.TrainUsers, builder.TestUsers, builder.Truncated, spill.Loaded);
    }
}

/// <summary>Cell parsing with the bad-line report: every method returns false after reporting (under Skip).</summary>
internal sealed class Cells(CsvReader csv, BadLines bad)
{
    /// <summary>The line splits and has the header's number of cells.</summary>
    public bool Shape()
    {
        if (csv.Malformed is { } why) return Bad(BadLineReason.Malformed, why);
        if (csv.FieldCount != csv.Header.Length)
            return Bad(BadLineReason.WrongColumnCount, $"has {csv.FieldCount} cells, the header has {csv.Header.Length}");
        return true;
    }

    public bool Long(int column, string name, out long value)
    {
        if (CsvReader.TryLong(csv[column], out value)) return true;
        return NotANumber(column, name, "a whole number");
    }

    public bool Double(int column, string name, out double value)
    {
        if (CsvReader.TryDouble(csv[column], out value)) return true;
        return NotANumber(column, name, "a finite number");
    }

    public bool Id(int column, string name, bool hash, out long value)
    {
        if (!hash) return Long(column, name, out value);
        var cell = csv[column].Trim();
        value = cell.IsEmpty ? 0 : StringIds.Of(cell);
        return !cell.IsEmpty || Bad(BadLineReason.NotANumber, $"{name} is empty");
    }

    public bool Label(int column, string name, out int value)
    {
        value = 0;
        if (!Long(column, name, out var l)) return false;
        if (l is not (0 or 1)) return Bad(BadLineReason.InvalidLabel, $"{name} is {l}, must be 0 or 1");
        value = (int)l;
        return true;
    }

    /// <summary>A space-separated list of ids ("" = empty) into <paramref name="into"/>.</summary>
    public bool Ids(int column, string name, List<long> into)
    {
        into.Clear();
        var cell = csv[column];
        var position = 0;
        foreach (var range in cell.Split(' '))
        {
            var token = cell[range];
            if (token.IsEmpty) continue;
            if (!CsvReader.TryLong(token, out var id))
                return Bad(BadLineReason.NotANumber, $"{name} id {position} is {CsvReader.Show(token)}, not a whole number");
            into.Add(id);
            position++;
        }
        return true;
    }

    public bool Bad(BadLineReason reason, string detail)
    {
        bad.Report(csv.File, csv.LineNumber, reason, detail);
        return false;
    }

    private bool NotANumber(int column, string name, string what)
    {
        var cell = csv[column];
        return Bad(BadLineReason.NotANumber, cell.Trim().IsEmpty ? $"{name} is empty, must be {what}" : $"{name} is {CsvReader.Show(cell)}, not {what}");
    }
}
