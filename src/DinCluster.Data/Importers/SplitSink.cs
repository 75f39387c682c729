using DinCluster.Core.Features;

namespace DinCluster.Data.Importers;

/// <summary>
/// Writes one split's samples as DIR/{split}/part-00000.parquet, part-00001.parquet, ... of at most
/// RowsPerFile rows each (default-schema columns plus timestamp, via <see cref="BehaviourLogWriter"/>).
/// History arrays are reused per length: the writer copies a sample's values before Write returns.
/// </summary>
internal sealed class SplitSink(string outDir, string split, int rowGroupSize, long rowsPerFile) : IDisposable
{
    private static readonly FeatureSchema Schema = FeatureSchema.Default();

    private readonly List<long[]> _items = [];
    private readonly List<long[]> _categories = [];
    private BehaviourLogWriter? _writer;
    private long _rowsInFile;

    public string Split { get; } = split;
    public List<string> Files { get; } = [];
    public long Samples { get; private set; }
    public long Positives { get; private set; }

    public void Write(long user, long item, long category, ReadOnlySpan<long> histItems, ReadOnlySpan<long> histCategories, int label, long? timestamp)
    {
        if (_writer is null || _rowsInFile == rowsPerFile)
        {
            _writer?.Dispose();
            var relative = Path.Combine(Split, $"part-{Files.Count:D5}.parquet");
            Directory.CreateDirectory(Path.Combine(outDir, Split));
            _writer = BehaviourLogWriter.Create(Path.Combine(outDir, relative), Schema, rowGroupSize, withTimestamp: true);
            Files.Add(relative);
            _rowsInFile = 0;
        }
        var items = Buffer(_items, histItems.Length);
        var categories = Buffer(_categories, histCategories.Length);
        histItems.CopyTo(items);
        histCategories.CopyTo(categories);
        _writer.Write(new Sample(user, item, category, items, categories, label, timestamp));
        _rowsInFile++;
        Samples++;
        if (label == 1) Positives++;
    }

    private static long[] Buffer(List<long[]> byLength, int length)
    {
        while (byLength.Count <= length) byLength.Add(new long[byLength.Count]);
        return byLength[length];
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
    }
}
