using System.Runtime.CompilerServices;
using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using Parquet;

namespace DinCluster.Data;

/// <summary>
/// Streams behaviour-log Parquet files into <see cref="Batch"/>es, one row group at a time, so
/// memory is bounded by a row group whatever the file size. Every path checks its input: an
/// unreadable, empty or mistyped file, or bad rows, either throw a <see cref="BadInputException"/>
/// (<see cref="BadInputPolicy.Fail"/>) or are dropped and counted in <see cref="Counts"/>
/// (<see cref="BadInputPolicy.Skip"/>). Histories longer than maxlen keep the most recent maxlen
/// ids and are counted in <see cref="BadInputCounts.TruncatedHistories"/> under either policy.
/// <para>
/// Thread-safe (no state but the counts). Usage: <see cref="Inspect"/> each file once, then read
/// its row groups. A file-level problem met by Inspect counts a skipped file; met by a row-group
/// read (the file changed since), it counts a skipped row group.
/// </para>
/// </summary>
/// <param name="requireLabel">False for scoring (`predict`): files without the label column are read with labels 0.</param>
public sealed class BehaviourLogReader(FeatureSchema features, BadInputPolicy policy = BadInputPolicy.Fail, BadInputCounts? counts = null, bool requireLabel = true)
{
    private static readonly ParquetOptions Options = new();

    public BehaviourLogSchema Schema { get; } = new(features);
    public BadInputPolicy Policy { get; } = policy;
    public BadInputCounts Counts { get; } = counts ?? new BadInputCounts();

    /// <summary>Row groups and row counts of a file whose schema matches; null when skipped.</summary>
    public ParquetFileInfo? Inspect(string path) => InspectAsync(path).GetAwaiter().GetResult();

    public async Task<ParquetFileInfo?> InspectAsync(string path, CancellationToken ct = default)
    {
        await using var file = await OpenAsync(path, wholeFile: true, ct);
        if (file is null) return null;
        var info = new ParquetFileInfo(path, file.Reader.RowGroups.Select(g => g.RowCount).ToArray()) { HasLabel = file.Bound.Label is not null };
        if (info.Rows > 0) return info;
        Refuse(new BadInputException(path, null, null, BadInputReason.EmptyFile, "file has no rows"), wholeFile: true, rows: 0);
        return null;
    }

    /// <summary>All good rows of a row group as one batch (Count 0 when every row, or the row group, was skipped).</summary>
    public Batch ReadRowGroup(string path, int rowGroup, long batchId) =>
        ReadRowGroupAsync(path, rowGroup, batchId).GetAwaiter().GetResult();

    public async Task<Batch> ReadRowGroupAsync(string path, int rowGroup, long batchId, CancellationToken ct = default)
    {
        using var decoder = new RowGroupDecoder(Schema.Features, describe: Policy == BadInputPolicy.Fail);
        await DecodeAsync(path, rowGroup, decoder, ct);
        return decoder.Emit(0, decoder.GoodCount, batchId);
    }

    /// <summary>A row group cut into batches of <paramref name="batchSize"/> good rows (the last may be smaller),
    /// numbered firstBatchId, firstBatchId + 1, ...; the row group is decoded once, on the first MoveNext.</summary>
    public IEnumerable<Batch> ReadBatches(string path, int rowGroup, int batchSize, long firstBatchId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return Iterate();

        IEnumerable<Batch> Iterate()
        {
            using var decoder = new RowGroupDecoder(Schema.Features, describe: Policy == BadInputPolicy.Fail);
            DecodeAsync(path, rowGroup, decoder, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            foreach (var batch in Slice(decoder, batchSize, firstBatchId)) yield return batch;
        }
    }

    public async IAsyncEnumerable<Batch> ReadBatchesAsync(string path, int rowGroup, int batchSize, long firstBatchId,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var decoder = new RowGroupDecoder(Schema.Features, describe: Policy == BadInputPolicy.Fail);
        await DecodeAsync(path, rowGroup, decoder, ct);
        foreach (var batch in Slice(decoder, batchSize, firstBatchId)) yield return batch;
    }

    /// <summary>Every row group of a file in order (e.g. for evaluation), batches numbered on from firstBatchId.</summary>
    public IEnumerable<Batch> ReadFile(string path, int batchSize, long firstBatchId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return Iterate();

        IEnumerable<Batch> Iterate()
        {
            var info = Inspect(path);
            if (info is null) yield break;
            var id = firstBatchId;
            for (var g = 0; g < info.RowGroupCount; g++)
                foreach (var batch in ReadBatches(path, g, batchSize, id))
                {
                    id++;
                    yield return batch;
                }
        }
    }

    private static IEnumerable<Batch> Slice(RowGroupDecoder decoder, int batchSize, long firstBatchId)
    {
        var id = firstBatchId;
        for (var first = 0; first < decoder.GoodCount; first += batchSize)
            yield return decoder.Emit(first, Math.Min(batchSize, decoder.GoodCount - first), id++);
    }

    /// <summary>Decodes and checks one row group; under Fail throws at its first bad row, under Skip counts what it drops.</summary>
    private async ValueTask DecodeAsync(string path, int rowGroup, RowGroupDecoder decoder, CancellationToken ct)
    {
        await using var file = await OpenAsync(path, wholeFile: false, ct);
        if (file is null) return;
        ArgumentOutOfRangeException.ThrowIfNegative(rowGroup);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rowGroup, file.Reader.RowGroupCount);
        var group = file.Reader.RowGroups[rowGroup];
        try
        {
            await decoder.DecodeAsync(group, file.Bound, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Refuse(new BadInputException(path, rowGroup, null, BadInputReason.UnreadableRowGroup, $"cannot be decoded ({e.Message})", e),
                wholeFile: false, group.RowCount);
            return;
        }

        if (decoder.FirstBad is var (row, reason, detail) && Policy == BadInputPolicy.Fail)
            throw new BadInputException(path, rowGroup, row, reason, detail);
        for (var r = 0; r < decoder.BadByReason.Length; r++)
            if (decoder.BadByReason[r] > 0) Counts.AddRows((BadInputReason)r, decoder.BadByReason[r]);
        if (decoder.TruncatedRows > 0) Counts.AddTruncatedHistories(decoder.TruncatedRows);
    }

    /// <summary>Opens a file and binds its schema; null when refused under Skip.</summary>
    private async ValueTask<OpenLog?> OpenAsync(string path, bool wholeFile, CancellationToken ct)
    {
        if (new FileInfo(path).Length == 0)
        {
            Refuse(new BadInputException(path, null, null, BadInputReason.EmptyFile, "file is empty (0 bytes)"), wholeFile, 0);
            return null;
        }

        ParquetReader reader;
        try
        {
            var stream = new InlineReadStream(path);
            try
            {
                reader = await ParquetReader.CreateAsync(stream, Options, leaveStreamOpen: false, ct);
            }
            catch
            {
                await stream.DisposeAsync();
                throw;
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException))
        {
            Refuse(new BadInputException(path, null, null, BadInputReason.UnreadableFile, $"not a readable Parquet file ({e.Message})", e), wholeFile, 0);
            return null;
        }

        try
        {
            return new OpenLog(reader, Schema.Bind(reader.Schema, path, requireLabel));
        }
        catch (BadInputException e)
        {
            var rows = reader.RowGroups.Sum(g => g.RowCount);
            await reader.DisposeAsync();
            Refuse(e, wholeFile, rows);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // a footer that parses but whose schema cannot be turned into fields
            await reader.DisposeAsync();
            Refuse(new BadInputException(path, null, null, BadInputReason.UnreadableFile, $"schema cannot be read ({e.Message})", e), wholeFile, 0);
            return null;
        }
    }

    /// <summary>Fail: throws. Skip: counts the file or row group (and its rows, when known) and returns.</summary>
    private void Refuse(BadInputException bad, bool wholeFile, long rows)
    {
        if (Policy == BadInputPolicy.Fail) throw bad;
        if (wholeFile) Counts.AddFile(bad.Reason, rows);
        else Counts.AddRowGroup(bad.Reason, rows);
    }

    private sealed class OpenLog(ParquetReader reader, BoundLogSchema bound) : IAsyncDisposable
    {
        public ParquetReader Reader { get; } = reader;
        public BoundLogSchema Bound { get; } = bound;
        public ValueTask DisposeAsync() => Reader.DisposeAsync();
    }
}
