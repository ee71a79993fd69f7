use promlink::counted;

struct Worker;

impl Worker {
    #[counted(function = "")]
    fn work(&self) {}
}

fn main() {
    Worker.work();
}
