using Parquet;
using Parquet.Schema;

namespace DinCluster.Data.Tests;

/// <summary>
/// Writes default-schema behaviour logs the way other tools (pyarrow, Spark) do: every column and
/// list element optional, so nulls can be injected, which BehaviourLogWriter never writes. Options
/// swap in foreign types (an int64 label) or add a double dense column.
/// </summary>
public static class RawLog
{
    public sealed record Row(long? User, long? Item, long? Category, long?[]? HistItems, long?[]? HistCategories, int? Label)
    {
        public double? Price { get; init; }

        public static Row From(Sample s) => new(s.UserId, s.ItemId, s.CategoryId,
            s.HistItems.Select(i => (long?)i).ToArray(), s.HistCategories.Select(c => (long?)c).ToArray(), s.Label);
    }

    public static void Write(string path, IReadOnlyList<Row> rows, int rowGroupSize, bool labelAsInt64 = false, bool withPrice = false) =>
        WriteAsync(path, rows, rowGroupSize, labelAsInt64, withPrice).GetAwaiter().GetResult();

    private static async Task WriteAsync(string path, IReadOnlyList<Row> rows, int rowGroupSize, bool labelAsInt64, bool withPrice)
    {
        var user = new DataField<long>("user_id", nullable: true);
        var item = new DataField<long>("item_id", nullable: true);
        var category = new DataField<long>("category_id", nullable: true);
        var histItem = new DataField<long>(ListField.ElementName, nullable: true);
        var histCategory = new DataField<long>(ListField.ElementName, nullable: true);
        DataField label = labelAsInt64 ? new DataField<long>("label", nullable: true) : new DataField<int>("label", nullable: true);
        var price = new DataField<double>("price", nullable: true);
        var fields = new List<Field> { user, item, category, new ListField("hist_item_id", histItem), new ListField("hist_category_id", histCategory), label };
        if (withPrice) fields.Add(price);

        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream);
        foreach (var chunk in rows.Chunk(rowGroupSize))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(user, chunk.Select(r => r.User).ToArray());
            await group.WriteAsync<long>(item, chunk.Select(r => r.Item).ToArray());
            await group.WriteAsync<long>(category, chunk.Select(r => r.Category).ToArray());
            await WriteListAsync(group, histItem, chunk.Select(r => r.HistItems));
            await WriteListAsync(group, histCategory, chunk.Select(r => r.HistCategories));
            if (labelAsInt64) await group.WriteAsync<long>(label, chunk.Select(r => (long?)r.Label).ToArray());
            else await group.WriteAsync<int>(label, chunk.Select(r => r.Label).ToArray());
            if (withPrice) await group.WriteAsync<double>(price, chunk.Select(r => r.Price).ToArray());
            group.CompleteValidate();
        }
    }

    /// <summary>Levels of an optional list of optional elements: 0 null list, 1 empty, 2 null element, 3 value.</summary>
    private static Task WriteListAsync(ParquetRowGroupWriter group, DataField element, IEnumerable<long?[]?> lists)
    {
        var values = new List<long>();
        var def = new List<int>();
        var rep = new List<int>();
        foreach (var list in lists)
        {
            if (list is null || list.Length == 0)
            {
                def.Add(list is null ? 0 : 1);
                rep.Add(0);
                continue;
            }
            for (var i = 0; i < list.Length; i++)
            {
                rep.Add(i == 0 ? 0 : 1);
                def.Add(list[i].HasValue ? 3 : 2);
                if (list[i] is { } v) values.Add(v);
            }
        }
        return group.WriteAllPartsAsync<long>(element, values.ToArray(), def.ToArray(), rep.ToArray(), CancellationToken.None);
    }
}
