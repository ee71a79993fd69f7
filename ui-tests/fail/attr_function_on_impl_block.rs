use promlink::counted;

struct Worker;

#[counted(function = "Worker")]
impl Worker {
    fn work(&self) {}
}

fn main() {
    Worker.work();
}
