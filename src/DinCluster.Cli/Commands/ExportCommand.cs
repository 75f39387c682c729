namespace DinCluster.Cli.Commands;

/// <summary>`dincluster export`: the trained model in PyTorch (.pt state_dict) or Parquet form.</summary>
public static class ExportCommand
{
    public const string Help = """
        dincluster export --model CKPT --format pytorch|parquet --out PATH
        """;

    public static int Run(CliArgs args)
    {
        args.RejectUnknown();
        throw new CliException("export arrives with the PyTorch exporter");
    }
}
