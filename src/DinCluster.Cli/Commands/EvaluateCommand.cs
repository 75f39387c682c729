using System.Globalization;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Local;
using DinCluster.Data;
using DinCluster.Model.Training;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster evaluate`: a checkpoint's AUC, GAUC and log loss on a data set's test files.</summary>
public static class EvaluateCommand
{
    public const string Help = """
        dincluster evaluate --model CKPT --data DIR [--predictions OUT.csv] [--split test|train] [--batch-size B]

          --model CKPT       a checkpoint folder, or a run folder (its newest valid checkpoint)
          --data DIR         data set folder; DIR/test/*.parquet by default
          --predictions F    also write every prediction as CSV: user_id,item_id,label,score
        """;

    public static int Run(CliArgs args)
    {
        var modelPath = args.Require("model");
        var data = args.Require("data");
        var split = args.Get("split", "test");
        var predictions = args.Get("predictions");
        var batchSize = args.Int("batch-size", 4096);
        args.RejectUnknown();

        var dir = ModelCheckpoint.Resolve(modelPath, (d, why) => Console.Error.WriteLine($"refused checkpoint {d}: {why}"));
        var model = ModelCheckpoint.Load(dir);
        TorchThreads.Configure(Environment.ProcessorCount);
        var network = model.CreateNetwork();
        var folder = Path.Combine(data, split);
        if (!Directory.Exists(folder)) throw new CliException($"--data {data}: no {split}/ folder");
        var files = Directory.GetFiles(folder, "*.parquet").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        var reader = new BehaviourLogReader(model.Schema);
        var output = Evaluator.Run(network, model.Tables, reader, files, batchSize, keepItems: predictions is not null);
        var m = output.Metrics;
        Console.WriteLine($"checkpoint {dir} (step {model.Manifest.Step}, epoch {model.Manifest.Epoch}) on {folder}: {m.Samples:N0} samples");
        Console.WriteLine($"AUC {m.Auc:F4}  GAUC {m.Gauc:F4} ({m.GaucUsers:N0} users)  logloss {m.LogLoss:F4}");
        if (predictions is not null)
        {
            using var w = new StreamWriter(predictions);
            w.WriteLine("user_id,item_id,label,score");
            for (var i = 0; i < output.Scores.Length; i++)
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{output.Users[i]},{output.Items[i]},{(int)output.Labels[i]},{output.Scores[i]:R}"));
            Console.WriteLine($"predictions: {predictions}");
        }
        return 0;
    }
}
