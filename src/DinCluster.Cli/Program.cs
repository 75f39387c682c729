namespace DinCluster.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("dincluster: commands are being built");
        return args.Length == 0 ? 0 : 2;
    }
}
