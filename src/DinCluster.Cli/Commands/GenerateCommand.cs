using DinCluster.Data;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster generate`: the synthetic data set with known click probabilities.</summary>
public static class GenerateCommand
{
    public const string Help = """
        dincluster generate --out DIR [--users N --items N --categories N --samples N --seed S]
                            [--history-max L --test-fraction F --row-group-size R]

        Writes DIR/train/*.parquet, DIR/test/*.parquet (behaviour-log schema plus a p_true column)
        and DIR/dataset.json (counts, seed, click model, Bayes-optimal test AUC).
        Defaults: 10,000 users, 20,000 items, 100 categories, 220,000 samples (10% test, the
        latest by time), seed 42.
        """;

    public static int Run(CliArgs args)
    {
        var d = new SyntheticSettings();
        var settings = d with
        {
            Users = args.Int("users", d.Users),
            Items = args.Int("items", d.Items),
            Categories = args.Int("categories", d.Categories),
            Samples = args.Int("samples", d.Samples),
            Seed = (ulong)args.Long("seed", (long)d.Seed),
            HistoryMax = args.Int("history-max", d.HistoryMax),
            TestFraction = args.Double("test-fraction", d.TestFraction),
            RowGroupSize = args.Int("row-group-size", d.RowGroupSize),
        };
        var dir = args.Require("out");
        args.RejectUnknown();
        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
        var dataset = SyntheticGenerator.Generate(dir, settings, Console.Out);
        Console.WriteLine($"wrote {dir}: Bayes-optimal test AUC {dataset.BayesTestAuc:F4} (dataset.json)");
        return 0;
    }
}
