use promlink::counted;

struct Worker;

#[counted]
impl Worker {
    #[counted(skip, name = "work_done_total")]
    fn work(&self) {}
}

fn main() {
    Worker.work();
}
