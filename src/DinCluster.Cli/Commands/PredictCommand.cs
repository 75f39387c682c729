using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Serving;
using DinCluster.Data;
using DinCluster.Model.Training;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster predict`: scores Parquet behaviour logs in bulk with a checkpoint.</summary>
public static class PredictCommand
{
    public const string Help = """
        dincluster predict --model CKPT --data PATH --out FILE.csv|FILE.parquet [options]

          --model CKPT        a checkpoint folder, or a run folder (its newest valid checkpoint)
          --data PATH         a .parquet file; a folder of *.parquet; or a data set folder, whose
                              SPLIT/*.parquet is scored (files in name order)
          --split SPLIT       data set split when PATH holds no *.parquet itself (default test)
          --out FILE          .csv: user_id,item_id,score,label; .parquet: the same columns
                              (int64, int64, float, int32); rows in input order; no label
                              column when an input file has none
          --batch-size B      default 4096 (as evaluate, so the scores are evaluate's)
          --unseen init|zero  an id no table row holds embeds as its initial value (init, default:
                              as training and evaluate) or as zeros (zero: as the PyTorch export)
          --on-bad-input fail|skip   default fail: a bad file/row group/row stops with its location
          --threads T         libtorch intra-op threads (default: cores)

        Input files are in the behaviour-log schema of the model; the label column may be absent.
        """;

    public static int Run(CliArgs args)
    {
        var modelPath = args.Require("model");
        var data = args.Require("data");
        var output = args.Require("out");
        var split = args.Get("split", "test");
        var batchSize = args.Int("batch-size", 4096);
        var unseen = ParseUnseen(args.Get("unseen", "init"));
        var policy = args.Get("on-bad-input", "fail") switch
        {
            "fail" => BadInputPolicy.Fail,
            "skip" => BadInputPolicy.Skip,
            var other => throw new CliException($"--on-bad-input is set to '{other}', must be fail or skip"),
        };
        var threads = args.Int("threads", Environment.ProcessorCount);
        args.RejectUnknown();
        if (batchSize <= 0) throw new CliException($"--batch-size is set to {batchSize}, must be > 0");
        if (threads <= 0) throw new CliException($"--threads is set to {threads}, must be > 0");
        if (Path.GetExtension(output).ToLowerInvariant() is not (".csv" or ".parquet"))
            throw new CliException($"--out is set to '{output}', must end in .csv or .parquet");

        var files = InputFiles(data, split);
        var dir = ModelCheckpoint.Resolve(modelPath, (d, why) => Console.Error.WriteLine($"refused checkpoint {d}: {why}"));
        var model = ModelCheckpoint.Load(dir);
        TorchThreads.Configure(threads);
        using var scorer = ModelScorer.FromCheckpoint(model, scorers: 1, unseen);
        var reader = new BehaviourLogReader(model.Schema, policy, requireLabel: false);
        Console.WriteLine($"predict: checkpoint {dir} (step {model.Manifest.Step}, epoch {model.Manifest.Epoch}), {files.Length} file(s), unseen ids -> {unseen.ToString().ToLowerInvariant()}");

        PredictSummary summary;
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".{Path.GetFileNameWithoutExtension(output)}.{Guid.NewGuid():N}{Path.GetExtension(output)}");
        try
        {
            var user = model.Schema.GroupBy;
            var item = model.Schema.HistoryPairs[0].Query;
            summary = BulkPredictor.Run(scorer, reader, files, withLabel => PredictionWriter.Create(temporary, user, item, withLabel), batchSize, Console.Out);
            File.Move(temporary, output, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        Console.WriteLine($"predict: scored {summary.Rows:N0} rows from {summary.Files} file(s), {summary.RowGroups} row group(s) in "
            + $"{summary.Elapsed.TotalSeconds:F1} s ({summary.RowsPerSecond:N0} rows/s); {summary.UnseenIds:N0} unseen ids; wrote {output}");
        if (!reader.Counts.IsEmpty) Console.WriteLine($"predict: bad input: {reader.Counts}");
        return 0;
    }

    public static UnseenIds ParseUnseen(string value) => value switch
    {
        "init" => UnseenIds.Init,
        "zero" => UnseenIds.Zero,
        _ => throw new CliException($"--unseen is set to '{value}', must be init or zero"),
    };

    /// <summary>A .parquet file; the *.parquet of a folder; or a data set's SPLIT/*.parquet.</summary>
    public static string[] InputFiles(string path, string split)
    {
        if (File.Exists(path)) return [path];
        if (!Directory.Exists(path)) throw new CliException($"--data {path}: no such file or folder");
        static string[] Parquet(string folder) =>
            Directory.GetFiles(folder, "*.parquet").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        var direct = Parquet(path);
        if (direct.Length > 0) return direct;
        var folder = Path.Combine(path, split);
        var files = Directory.Exists(folder) ? Parquet(folder) : [];
        return files.Length > 0 ? files : throw new CliException($"--data {path}: no *.parquet in it, nor in {split}/");
    }
}
