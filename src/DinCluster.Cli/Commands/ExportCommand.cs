using DinCluster.Cluster.Checkpoints;
using DinCluster.Core.Batches;
using DinCluster.Core.Embeddings;
using DinCluster.Data;
using DinCluster.Model.Export;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster export`: the trained model as a PyTorch state_dict, or its tables as Parquet.</summary>
public static class ExportCommand
{
    public const string Help = """
        dincluster export --model CKPT --format pytorch|parquet --out PATH

          --model CKPT       a checkpoint folder, or a run folder (its newest valid checkpoint)
          --format pytorch   PATH is one .pt state_dict (torch.load reads it): dense weights,
                             Dice running statistics, embedding.{table}.ids [N] int64 and
                             embedding.{table}.weight [N, dim] (DESIGN.md "PyTorch export");
                             beside it PATH with .json: the feature schema and network settings
                             (the checkpoint's model.json), which scripts/pytorch_predict.py reads
          --format parquet   PATH is a folder: dense.pt (dense weights and Dice statistics only) and
                             embedding.{table}.parquet (id int64, vector list<float>) per table, for
                             tables too large for one .pt file, and model.json
        """;

    public static int Run(CliArgs args)
    {
        var modelPath = args.Require("model");
        var format = args.Require("format");
        var output = args.Require("out");
        args.RejectUnknown();
        if (format is not ("pytorch" or "parquet")) throw new CliException($"--format is set to '{format}', must be pytorch or parquet");

        var dir = ModelCheckpoint.Resolve(modelPath, (d, why) => Console.Error.WriteLine($"refused checkpoint {d}: {why}"));
        var model = ModelCheckpoint.Load(dir);
        using var network = model.CreateNetwork();
        if (format == "pytorch")
        {
            var tables = model.Schema.Tables.Select(t => AllRows(model.Tables, t.Name, t.Dim)).ToList();
            PyTorchExporter.Write(output, network, tables);
            var description = Path.ChangeExtension(output, ".json");
            File.Copy(Path.Combine(dir, "model.json"), description, overwrite: true);
            Console.WriteLine($"exported {dir} to {output}: {network.DenseLayout.Total:N0} dense weights, "
                + string.Join(", ", tables.Select(t => $"{t.Table} {t.Ids.Length:N0} x {t.Dim}")) + $"; model description {description}");
            return 0;
        }
        Directory.CreateDirectory(output);
        PyTorchExporter.Write(Path.Combine(output, "dense.pt"), network, []);
        File.Copy(Path.Combine(dir, "model.json"), Path.Combine(output, "model.json"), overwrite: true);
        foreach (var (name, dim) in model.Schema.Tables)
        {
            var path = Path.Combine(output, $"embedding.{name}.parquet");
            long rows = 0;
            using (var writer = EmbeddingTableWriter.Create(path, name, dim))
            {
                // One shard at a time, so a table never has to fit in memory twice.
                foreach (var shard in model.Tables.Shards)
                {
                    var part = shard.Pull(name, shard.RowIds(name));
                    writer.Write(part);
                    rows += part.Ids.Length;
                }
            }
            Console.WriteLine($"  {path}: {rows:N0} rows x {dim}");
        }
        Console.WriteLine($"exported {dir} to {output}/ (dense.pt, model.json, one Parquet file per table)");
        return 0;
    }

    private static TableRows AllRows(ShardedEmbeddings tables, string table, int dim)
    {
        var parts = tables.Shards.Select(s => s.Pull(table, s.RowIds(table))).ToList();
        var ids = parts.SelectMany(p => p.Ids).ToArray();
        var values = new float[ids.Length * dim];
        var offset = 0;
        foreach (var p in parts)
        {
            p.Values.CopyTo(values, offset);
            offset += p.Values.Length;
        }
        return new TableRows(table, dim, ids, values);
    }
}
