using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace DinCluster.Cluster.Serving;

/// <summary>
/// Writes scored rows as CSV (header <c>user_id,item_id,score,label</c>, score with "R" so it reads
/// back as the exact float) or Parquet (user_id int64, item_id int64, score float, label int32),
/// chosen by the file's extension; without the label column when the input had none. Column names are the model's group-by and first query features
/// (user_id and item_id in the default schema).
/// </summary>
public abstract class PredictionWriter : IDisposable
{
    public long Rows { get; protected set; }

    public abstract void Write(ReadOnlySpan<long> users, ReadOnlySpan<long> items, ReadOnlySpan<float> scores, ReadOnlySpan<float> labels);

    public abstract void Dispose();

    public static PredictionWriter Create(string path, string userColumn, string itemColumn, bool withLabel = true)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => new Csv(path, userColumn, itemColumn, withLabel),
            ".parquet" => new ParquetFile(path, userColumn, itemColumn, withLabel),
            var e => throw new ArgumentException($"--out {path}: extension '{e}' is not .csv or .parquet"),
        };
    }

    private sealed class Csv : PredictionWriter
    {
        private readonly StreamWriter _w;
        private readonly bool _withLabel;

        public Csv(string path, string user, string item, bool withLabel)
        {
            _w = new StreamWriter(path);
            _withLabel = withLabel;
            _w.WriteLine(withLabel ? $"{user},{item},score,label" : $"{user},{item},score");
        }

        public override void Write(ReadOnlySpan<long> users, ReadOnlySpan<long> items, ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
        {
            for (var i = 0; i < scores.Length; i++)
                _w.WriteLine(_withLabel
                    ? string.Create(CultureInfo.InvariantCulture, $"{users[i]},{items[i]},{scores[i]:R},{(int)labels[i]}")
                    : string.Create(CultureInfo.InvariantCulture, $"{users[i]},{items[i]},{scores[i]:R}"));
            Rows += scores.Length;
        }

        public override void Dispose() => _w.Dispose();
    }

    private sealed class ParquetFile : PredictionWriter
    {
        private readonly FileStream _stream;
        private readonly ParquetWriter _writer;
        private readonly DataField<long> _user;
        private readonly DataField<long> _item;
        private readonly DataField<float> _score = new("score");
        private readonly DataField<int>? _label;

        public ParquetFile(string path, string user, string item, bool withLabel)
        {
            _user = new DataField<long>(user);
            _item = new DataField<long>(item);
            _label = withLabel ? new DataField<int>("label") : null;
            _stream = File.Create(path);
            var schema = _label is null ? new ParquetSchema(_user, _item, _score) : new ParquetSchema(_user, _item, _score, _label);
            _writer = ParquetWriter.CreateAsync(schema, _stream).GetAwaiter().GetResult();
        }

        /// <summary>One row group per call (the predictor calls once per input row group).</summary>
        public override void Write(ReadOnlySpan<long> users, ReadOnlySpan<long> items, ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
        {
            if (scores.Length == 0) return;
            var labelInts = new int[labels.Length];
            for (var i = 0; i < labels.Length; i++) labelInts[i] = (int)labels[i];
            var u = users.ToArray();
            var it = items.ToArray();
            var s = scores.ToArray();
            Task.Run(async () =>
            {
                using var group = _writer.CreateRowGroup();
                await group.WriteAsync(_user, new ReadOnlyMemory<long>(u));
                await group.WriteAsync(_item, new ReadOnlyMemory<long>(it));
                await group.WriteAsync(_score, new ReadOnlyMemory<float>(s));
                if (_label is not null) await group.WriteAsync(_label, new ReadOnlyMemory<int>(labelInts));
                group.CompleteValidate();
            }).GetAwaiter().GetResult();
            Rows += scores.Length;
        }

        public override void Dispose()
        {
            _writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _stream.Dispose();
        }
    }
}
